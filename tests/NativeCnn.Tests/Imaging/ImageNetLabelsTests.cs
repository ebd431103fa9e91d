using NativeCnn.Imaging;

namespace NativeCnn.Tests.Imaging;

public sealed class ImageNetLabelsTests
{
    [Fact]
    public void HasTheThousandClassesInKerasOrder()
    {
        var names = ImageNetLabels.Names;
        Assert.Equal(1000, names.Count);
        Assert.Equal("tench, Tinca tinca", names[0]);
        Assert.Equal("goldfish, Carassius auratus", names[1]);
        Assert.Equal("tiger cat", names[282]);
        Assert.Equal("Egyptian cat", names[285]);
        Assert.Equal("toilet tissue, toilet paper, bathroom tissue", names[999]);
        Assert.All(names, n => Assert.False(string.IsNullOrWhiteSpace(n)));
        Assert.Same(names, ImageNetLabels.Names);
    }
}
