using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Karpenter.Kube.LeaderElection;

/// <summary>
/// Runs the <see cref="LeaderElector"/> when election is enabled. Registered before the controller host, so on
/// shutdown it stops after the controllers and only then releases the lease.
/// </summary>
internal sealed class LeaderElectionHost(IServiceProvider services, IOptions<LeaderElectionOptions> options) : IHostedService
{
    private LeaderElector? _elector;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Enabled)
        {
            return Task.CompletedTask;
        }

        _elector = services.GetRequiredService<LeaderElector>();
        return _elector.StartAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) =>
        _elector?.StopAsync(cancellationToken) ?? Task.CompletedTask;
}
