using NativeCnn.Backends;
using NativeCnn.Backends.Conformance;
using NativeCnn.Backends.Ilgpu;

namespace NativeCnn.Tests.Backends.Ilgpu;

/// <summary>Every op conformance case, fused forms included, on ilgpu-cpu against the CPU backend within <see cref="OpConformance.Tolerance"/>.</summary>
[Collection(IlgpuCollection.Name)]
public sealed class IlgpuOpTests(IlgpuFixture fixture)
{
    public static TheoryData<int, string> Cases()
    {
        var data = new TheoryData<int, string>();
        for (int i = 0; i < OpConformance.All.Count; i++) data.Add(i, OpConformance.All[i].Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesCpu(int index, string name)
    {
        var test = OpConformance.All[index];
        if (!fixture.Ilgpu.Supports(test.Op, out var reason))
        {
            // Ops the kernels do not cover are refused when prepared, naming the reason, never run wrongly.
            Assert.False(string.IsNullOrWhiteSpace(reason));
            var e = Assert.Throws<BackendException>(() => test.Run(fixture.Ilgpu, index + 1));
            Assert.Contains(reason!, e.Message);
            return;
        }
        var expected = test.Run(fixture.Cpu, index + 1);
        var actual = test.Run(fixture.Ilgpu, index + 1);
        Precision.AssertClose(expected, actual, OpConformance.Tolerance, scale: 1.0, what: name);
    }
}
