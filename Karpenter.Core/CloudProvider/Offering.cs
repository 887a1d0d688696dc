using Karpenter.Core.Scheduling;
using Karpenter.Entities.WellKnown;

namespace Karpenter.Core.CloudProvider;

/// <summary>
/// One way to buy an instance type: a zone and capacity type (and, for reserved capacity, a reservation), its hourly
/// price and whether it can be launched right now.
/// </summary>
public sealed class Offering
{
    public Offering(string zone, string capacityType, decimal price, bool available = true, string? reservationId = null, int reservationCapacity = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(zone);
        ArgumentException.ThrowIfNullOrEmpty(capacityType);
        Zone = zone;
        CapacityType = capacityType;
        Price = price;
        Available = available;
        ReservationId = reservationId;
        ReservationCapacity = reservationCapacity;
        Requirements = new Requirements(
            Requirement.In(Labels.TopologyZone, zone),
            Requirement.In(Labels.CapacityType, capacityType));
        if (reservationId is not null)
        {
            Requirements.Add(Requirement.In(Labels.CapacityReservationId, reservationId));
        }
    }

    public string Zone { get; }

    public string CapacityType { get; }

    /// <summary>Hourly price in the provider's currency (USD for AWS).</summary>
    public decimal Price { get; }

    public bool Available { get; }

    /// <summary>The capacity reservation this offering draws from (reserved offerings only).</summary>
    public string? ReservationId { get; }

    /// <summary>How many more instances the reservation can launch (reserved offerings only).</summary>
    public int ReservationCapacity { get; }

    /// <summary>The labels a node launched from this offering carries: zone, capacity type and reservation.</summary>
    public Requirements Requirements { get; }

    public bool IsReserved => string.Equals(CapacityType, CapacityTypes.Reserved, StringComparison.Ordinal);

    public override string ToString() => $"{Zone}/{CapacityType}{(ReservationId is null ? string.Empty : "/" + ReservationId)} {Price}/h{(Available ? string.Empty : " (unavailable)")}";
}
