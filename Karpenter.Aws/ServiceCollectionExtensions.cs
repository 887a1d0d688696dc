using Amazon.EC2;
using Amazon.SimpleSystemsManagement;
using Amazon.SQS;
using Karpenter.Aws.Amis;
using Karpenter.Aws.Batching;
using Karpenter.Aws.CloudProvider;
using Karpenter.Aws.InstanceProfiles;
using Karpenter.Aws.Instances;
using Karpenter.Aws.InstanceTypes;
using Karpenter.Aws.Interruption;
using Karpenter.Aws.LaunchTemplates;
using Karpenter.Aws.NodeClasses;
using Karpenter.Aws.NodeClasses.Hash;
using Karpenter.Aws.Pricing;
using Karpenter.Aws.Refresh;
using Karpenter.Aws.Sdk;
using Karpenter.Aws.SecurityGroups;
using Karpenter.Aws.Startup;
using Karpenter.Aws.Subnets;
using Karpenter.Aws.Tagging;
using Karpenter.Core.CloudProvider;
using Karpenter.Core.Metrics;
using Karpenter.Entities.Aws.V1;
using Karpenter.Entities.V1;
using Karpenter.Kube.Client;
using Karpenter.Kube.Hosting;
using Karpenter.Kube.Informers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Karpenter.Aws;

/// <summary>The composition root of Karpenter.Aws: the one place its services and controllers are registered.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers the AWS cloud provider (<see cref="ICloudProvider"/> = <see cref="AwsCloudProvider"/>), its providers and SDK
    /// clients, its controllers and the start-up check, with <see cref="AwsOptions"/> bound from <paramref name="configuration"/>
    /// under upstream's names (<c>CLUSTER_NAME</c>, <c>CLUSTER_ENDPOINT</c>, <c>AWS_REGION</c>, <c>INTERRUPTION_QUEUE</c>, …) and
    /// validated at start, and the start-up check (a DryRun call proving credentials, endpoint and permission, then the
    /// instance-type catalog) that runs before the runtime's hosted services. Also registers the operator runtime
    /// (<c>AddKubeOperator</c>) its stores read from; the controllers are added with
    /// <see cref="AddKarpenterAwsControllers"/> on the operator builder.
    /// </summary>
    public static IServiceCollection AddKarpenterAws(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddKarpenterAws(o => o.Bind(configuration));
    }

    /// <summary>As <see cref="AddKarpenterAws(IServiceCollection, IConfiguration)"/>, with the settings given in code (tests, the simulator).</summary>
    public static IServiceCollection AddKarpenterAws(this IServiceCollection services, Action<AwsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddKubeOperator();
        services.AddOptions<AwsOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AwsOptions>, AwsOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        services.TryAddSingleton<AwsClients>();
        services.TryAddSingleton(sp => sp.GetRequiredService<AwsClients>().Ec2);
        services.TryAddSingleton(sp => sp.GetRequiredService<AwsClients>().Ssm);
        services.TryAddSingleton(sp => sp.GetRequiredService<AwsClients>().Sqs);
        services.TryAddSingleton(sp => new IamClient(sp.GetRequiredService<AwsClients>().Iam));
        services.TryAddSingleton(sp => new PricingProvider(sp.GetRequiredService<IAmazonEC2>(), sp.GetRequiredService<AwsClients>().Pricing,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<AwsOptions>>(), sp.GetRequiredService<ILogger<PricingProvider>>()));

        services.TryAddSingleton<UnavailableOfferings>();
        services.TryAddSingleton<InstanceTypeProvider>();
        services.TryAddSingleton<SubnetProvider>();
        services.TryAddSingleton<SecurityGroupProvider>();
        services.TryAddSingleton<AmiProvider>();
        services.TryAddSingleton<InstanceProfileProvider>();
        services.TryAddSingleton<LaunchTemplateProvider>();
        services.TryAddSingleton<Ec2Batchers>();
        services.TryAddSingleton<InstanceProvider>();
        services.TryAddSingleton<NodeClassStatusResolver>();
        services.TryAddSingleton<IEc2NodeClassStore, InformerNodeClassStore>();
        services.TryAddSingleton<AwsCloudProvider>();
        services.TryAddSingleton<SqsProvider>();
        services.TryAddSingleton<InterruptionMetrics>();
        services.TryAddSingleton<LifecycleMetrics>();
        services.AddSingleton<ICloudProvider>(sp => sp.GetRequiredService<AwsCloudProvider>());

        // The start-up check runs before the runtime's hosted services (informers, controllers) start.
        if (!services.Any(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(AwsStartupCheck)))
        {
            var first = services.Select((d, i) => (d, i)).FirstOrDefault(p => p.d.ServiceType == typeof(IHostedService));
            var descriptor = ServiceDescriptor.Singleton<IHostedService, AwsStartupCheck>();
            if (first.d is null)
            {
                services.Add(descriptor);
            }
            else
            {
                services.Insert(first.i, descriptor);
            }
        }
        return services;
    }

    /// <summary>
    /// The AWS controllers, by their upstream names: <c>nodeclass</c> (status, conditions, finalizer), <c>nodeclass.hash</c>
    /// (the static-drift hash), <c>nodeclaim.tagging</c> (Name and nodeclaim tags once registered), <c>interruption</c>
    /// (the SQS queue; idle when <c>INTERRUPTION_QUEUE</c> is unset), and the refresh loops <c>providers.instancetype</c>,
    /// <c>providers.pricing</c> and <c>providers.launchtemplate</c>, and <c>instanceprofile.garbagecollection</c>. Call after
    /// <see cref="AddKarpenterAws(IServiceCollection, IConfiguration)"/>.
    /// </summary>
    public static KubeOperatorBuilder AddKarpenterAwsControllers(this KubeOperatorBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Services.Any(d => d.ServiceType == typeof(NodeClassController)))
        {
            return builder;
        }
        builder.AddController<EC2NodeClass, NodeClassController>(NodeClassController.Name, c => c
            .WithWorkers(10)
            .WithUpdateFilter(NodeClassController.UpdateFilter)
            // A deleted NodeClaim may be the last one holding a deleted NodeClass.
            .Watches<NodeClaim>(sp =>
            {
                var nodeClasses = sp.GetRequiredService<InformerFactory>().Get<EC2NodeClass>();
                return claim => nodeClasses.Get(ObjectKey.Cluster(claim.Spec.NodeClassRef.Name))?.Metadata.DeletionTimestamp is not null
                    ? [ObjectKey.Cluster(claim.Spec.NodeClassRef.Name)]
                    : [];
            }));
        builder.AddController<EC2NodeClass, NodeClassHashController>(NodeClassHashController.Name, c => c.WithUpdateFilter(NodeClassController.UpdateFilter));
        builder.AddController<NodeClaim, TaggingController>(TaggingController.Name, c => c.WithUpdateFilter((_, claim) => TaggingController.IsTaggable(claim)));
        builder.AddSingletonController<InterruptionController>(InterruptionController.Name);
        builder.AddSingletonController<InstanceTypeRefreshController>(InstanceTypeRefreshController.Name);
        builder.AddSingletonController<PricingRefreshController>(PricingRefreshController.Name);
        builder.AddSingletonController<LaunchTemplateCleanupController>(LaunchTemplateCleanupController.Name);
        builder.AddSingletonController<InstanceProfileGarbageCollector>(InstanceProfileGarbageCollector.Name);
        return builder;
    }
}
