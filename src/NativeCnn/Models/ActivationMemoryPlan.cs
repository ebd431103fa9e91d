namespace NativeCnn.Models;

/// <summary>
/// Which allocation ("slot") each plan step writes its output into. With sharing, a step's output is alive from the
/// step that produces it to the last step that reads it, and a slot is handed to the next step once its current output
/// is dead: outputs whose lifetimes do not overlap share memory, so a deep network needs a few slots instead of one
/// buffer per layer, and the memory a step writes was usually touched moments before (still in cache).
/// </summary>
/// <remarks>
/// Greedy over the step order: each step takes the smallest free slot that fits its output (ties: the one freed most
/// recently), else grows the largest free slot, else opens a new one. A slot is free only after the last step that
/// reads its output, so a step's output never aliases one of its own inputs. The plan's input lives outside the slots,
/// and a pinned step (the plan's output) gets a slot of its own that nothing else ever writes.
/// </remarks>
internal sealed class ActivationMemoryPlan
{
    private ActivationMemoryPlan(int[] slotOf, long[] slotSizes, int[] overwrittenBy)
    {
        SlotOf = slotOf;
        SlotSizes = slotSizes;
        OverwrittenBy = overwrittenBy;
    }

    /// <summary>Per step, the slot its output lives in.</summary>
    public IReadOnlyList<int> SlotOf { get; }

    /// <summary>Per slot, its size in elements: the largest output it holds.</summary>
    public IReadOnlyList<long> SlotSizes { get; }

    /// <summary>Per step, the first later step that writes into the same slot (its output is then lost), or -1.</summary>
    public IReadOnlyList<int> OverwrittenBy { get; }

    /// <summary>One slot per step: every output stays readable after a run.</summary>
    public static ActivationMemoryPlan Separate(IReadOnlyList<long> sizes)
    {
        var slots = new int[sizes.Count];
        for (int i = 0; i < slots.Length; i++) slots[i] = i;
        return new ActivationMemoryPlan(slots, [.. sizes], Enumerable.Repeat(-1, sizes.Count).ToArray());
    }

    /// <summary>Slots shared by steps whose outputs are never alive at the same time.</summary>
    /// <param name="sizes">Per step, its output's element count.</param>
    /// <param name="inputs">Per step, the earlier steps whose outputs it reads (the plan's input is not a step).</param>
    /// <param name="pinned">A step whose output must never be overwritten (the plan's output), or -1.</param>
    public static ActivationMemoryPlan Shared(IReadOnlyList<long> sizes, IReadOnlyList<IReadOnlyList<int>> inputs, int pinned)
    {
        int count = sizes.Count;
        var lastRead = new int[count];
        for (int i = 0; i < count; i++) lastRead[i] = i;
        for (int step = 0; step < count; step++)
            foreach (int input in inputs[step])
            {
                if (input >= step) throw new ArgumentException($"Step {step} reads step {input}, which does not run before it.", nameof(inputs));
                lastRead[input] = Math.Max(lastRead[input], step);
            }
        if (pinned >= 0) lastRead[pinned] = int.MaxValue;

        var slotOf = new int[count];
        var overwrittenBy = Enumerable.Repeat(-1, count).ToArray();
        var slotSizes = new List<long>();
        var busyUntil = new List<int>(); // the last step that reads the slot's current output
        var occupant = new List<int>();
        for (int step = 0; step < count; step++)
        {
            long size = sizes[step];
            int best = -1;
            for (int s = 0; s < slotSizes.Count && step != pinned; s++)
            {
                if (busyUntil[s] >= step) continue;
                if (best < 0 || Better(s, best)) best = s;
            }
            if (best < 0)
            {
                best = slotSizes.Count;
                slotSizes.Add(size);
                busyUntil.Add(0);
                occupant.Add(-1);
            }
            else
            {
                overwrittenBy[occupant[best]] = step;
                slotSizes[best] = Math.Max(slotSizes[best], size);
            }
            slotOf[step] = best;
            busyUntil[best] = lastRead[step];
            occupant[best] = step;

            // A fitting slot beats one that must grow; among fitting ones the smallest, among growing ones the largest;
            // then the most recently freed, whose memory is the likeliest to be in cache.
            bool Better(int s, int current)
            {
                bool fits = slotSizes[s] >= size, currentFits = slotSizes[current] >= size;
                if (fits != currentFits) return fits;
                if (slotSizes[s] != slotSizes[current]) return fits ? slotSizes[s] < slotSizes[current] : slotSizes[s] > slotSizes[current];
                return busyUntil[s] > busyUntil[current];
            }
        }
        return new ActivationMemoryPlan(slotOf, [.. slotSizes], overwrittenBy);
    }
}
