using NativeCnn.Training;

namespace NativeCnn.Tests.Training;

public class LearningRateScheduleTests
{
    [Theory]
    [InlineData(0, 0.1)]
    [InlineData(250, 0.085355339059327)] // 0.1 · 0.5 (1 + cos(π/4))
    [InlineData(500, 0.05)]
    [InlineData(1000, 0.0)]
    [InlineData(5000, 0.0)] // the step is clamped to decay_steps
    public void CosineDecayWithoutWarmup(long step, double expected) =>
        Assert.Equal(expected, new CosineDecay(0.1f, 1000).Evaluate(step), 1e-8);

    [Theory]
    [InlineData(0, 0.1)]
    [InlineData(500, 0.055)] // ((1 - 0.1) · 0.5 + 0.1) · 0.1
    [InlineData(1000, 0.01)]
    [InlineData(1001, 0.01)]
    public void CosineDecayAlphaIsTheFloor(long step, double expected) =>
        Assert.Equal(expected, new CosineDecay(0.1f, 1000, alpha: 0.1f).Evaluate(step), 1e-8);

    [Theory]
    [InlineData(0, 0.01)]
    [InlineData(50, 0.055)] // linear from 0.01 to 0.1 over 100 steps
    [InlineData(99, 0.0991)]
    [InlineData(100, 0.1)] // the warmup boundary: decay from warmup_target starts at warmup_steps
    [InlineData(101, 0.0999998026)] // 0.1 · ((1 - 0.2) · 0.5 (1 + cos(π/1000)) + 0.2)
    [InlineData(600, 0.06)] // half-way down: 0.1 · (0.8 · 0.5 + 0.2)
    [InlineData(1100, 0.02)] // decay end: alpha · warmup_target
    [InlineData(100000, 0.02)]
    public void CosineDecayWithWarmup(long step, double expected) =>
        Assert.Equal(expected, new CosineDecay(0.01f, 1000, alpha: 0.2f, warmupTarget: 0.1f, warmupSteps: 100).Evaluate(step), 2e-8);

    [Fact]
    public void CosineDecayWithZeroWarmupStepsDecaysFromTheTarget()
    {
        var schedule = new CosineDecay(0.5f, 10, warmupTarget: 0.2f);
        Assert.Equal(0.2f, schedule.Evaluate(0));
        Assert.Equal(0.1, schedule.Evaluate(5), 1e-8);
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineDecay(0.1f, 0));
    }

    [Theory]
    [InlineData(0, false, 0.1)]
    [InlineData(50, false, 0.0707106781)] // 0.1 · 0.5^0.5
    [InlineData(50, true, 0.1)]
    [InlineData(100, true, 0.05)]
    [InlineData(250, false, 0.0176776695)]
    [InlineData(250, true, 0.025)]
    public void ExponentialDecayAndStaircase(long step, bool staircase, double expected) =>
        Assert.Equal(expected, new ExponentialDecay(0.1f, 100, 0.5f, staircase).Evaluate(step), 1e-8);

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(100, 1.0)] // step <= boundaries[0]
    [InlineData(101, 0.5)]
    [InlineData(200, 0.5)]
    [InlineData(201, 0.1)]
    public void PiecewiseConstantDecayBoundariesAreInclusiveBelow(long step, double expected) =>
        Assert.Equal((float)expected, new PiecewiseConstantDecay([100, 200], [1f, 0.5f, 0.1f]).Evaluate(step));

    [Fact]
    public void PiecewiseConstantDecayChecksItsArguments()
    {
        Assert.Throws<ArgumentException>(() => new PiecewiseConstantDecay([100, 200], [1f, 0.5f]));
        Assert.Throws<ArgumentException>(() => new PiecewiseConstantDecay([200, 100], [1f, 0.5f, 0.1f]));
    }

    [Fact]
    public void AFloatIsAConstantSchedule()
    {
        LearningRateSchedule schedule = 0.25f;
        Assert.Equal(0.25f, schedule.Evaluate(12345));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConstantLearningRate(float.NaN));
    }
}
