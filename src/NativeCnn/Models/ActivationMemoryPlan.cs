namespace NativeCnn.Models;

/// <summary>
/// Which allocation ("slot") each plan step writes its output into. A step's output is alive from the step that
/// produces it to the last step that reads it; outputs whose lifetimes do not overlap share a slot, so a deep network
/// needs a handful of slots instead of one buffer per layer, and the memory a step writes was usually touched moments
/// before (still in cache).
/// </summary>
/// <remarks>
/// Greedy by size, as TensorFlow Lite's shared-object planner: outputs from the largest down each join the smallest
/// slot none of whose outputs is alive at the same time, else open a new slot, so a slot's size is its first (largest)
/// output's. Lifetimes are closed intervals, so a step's output never aliases one of its own inputs. The plan's input
/// lives outside the slots, and a pinned step (the plan's output) gets a slot nothing else ever writes. On the Keras
/// applications this needs 5-20 % less memory than best fit in step order, at the same speed.
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
    /// <exception cref="ArgumentException">A step reads a step that does not run before it.</exception>
    public static ActivationMemoryPlan Shared(IReadOnlyList<long> sizes, IReadOnlyList<IReadOnlyList<int>> inputs, int pinned)
    {
        int count = sizes.Count;
        var lastRead = new int[count];
        for (int i = 0; i < count; i++) lastRead[i] = i;
        for (int step = 0; step < count; step++)
            foreach (int input in inputs[step])
            {
                if (input < 0 || input >= step) throw new ArgumentException($"Step {step} reads step {input}, which does not run before it.", nameof(inputs));
                lastRead[input] = Math.Max(lastRead[input], step);
            }
        bool Overlap(int a, int b) => a == pinned || b == pinned || (a <= lastRead[b] && b <= lastRead[a]);

        var slotOf = new int[count];
        var slotSizes = new List<long>();
        var users = new List<List<int>>();
        foreach (int step in Enumerable.Range(0, count).OrderByDescending(i => sizes[i]).ThenBy(i => i))
        {
            int best = -1;
            for (int s = 0; s < users.Count; s++)
                if ((best < 0 || slotSizes[s] < slotSizes[best]) && !users[s].Any(u => Overlap(u, step))) best = s;
            if (best < 0)
            {
                best = users.Count;
                users.Add([]);
                slotSizes.Add(sizes[step]);
            }
            users[best].Add(step);
            slotOf[step] = best;
        }

        var overwrittenBy = Enumerable.Repeat(-1, count).ToArray();
        foreach (var slotUsers in users)
        {
            slotUsers.Sort();
            for (int i = 0; i + 1 < slotUsers.Count; i++) overwrittenBy[slotUsers[i]] = slotUsers[i + 1];
        }
        return new ActivationMemoryPlan(slotOf, [.. slotSizes], overwrittenBy);
    }
}
