using NativeCnn.Backends;
using NativeCnn.Backends.Conformance;

namespace NativeCnn.Tests.Backends.Ilgpu;

/// <summary>
/// The op conformance catalog on ILGPU's OpenCL backend on PoCL (test-only capability override, see
/// <see cref="PoclIlgpuFixture"/>); skipped like the other PoCL tests (<c>NATIVECNN_SKIP_GPU_TESTS=1</c>, or PoCL missing outside CI).
/// </summary>
[Collection(PoclIlgpuCollection.Name)]
public sealed class PoclIlgpuOpTests(PoclIlgpuFixture fixture)
{
    [PoclTheory]
    [MemberData(nameof(IlgpuOpTests.Cases), MemberType = typeof(IlgpuOpTests))]
    public void MatchesCpu(int index, string name)
    {
        if (fixture.Pocl is null)
        {
            // tests/run.sh installs PoCL; a device missing despite that is a failure that says why, not a silent pass.
            Assert.Fail(fixture.SkipReason);
            return;
        }
        var test = OpConformance.All[index];
        if (!fixture.Pocl.Supports(test.Op, out var reason))
        {
            Assert.Contains(reason!, Assert.Throws<BackendException>(() => test.Run(fixture.Pocl, index + 1)).Message);
            return;
        }
        var expected = test.Run(fixture.Cpu, index + 1);
        var actual = test.Run(fixture.Pocl, index + 1);
        Precision.AssertClose(expected, actual, OpConformance.Tolerance, scale: 1.0, what: name);
    }
}
