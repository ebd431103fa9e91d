using System.CommandLine;
using NativeCnn.Models;
using NativeCnn.Models.Architectures;

namespace NativeCnn.Samples.Inspect;

/// <summary>
/// How a command names its model: an architecture (<c>efficientnet-b0</c>, Keras's <c>efficientnetb0</c>, …) with
/// <c>--alpha</c>, <c>--resolution</c> and <c>--weights</c> (a file, or <c>imagenet</c>), or <c>--model FILE</c> (a NativeCnn .safetensors model file, or a
/// Keras .h5 / .keras file or TF.js model.json that holds its config).
/// </summary>
internal sealed class ModelArguments
{
    private readonly Argument<string?> _arch = Cli.RejectingOptions(new Argument<string?>("arch")
    {
        Description = "The architecture, by Keras's name or ours: resnet50/101/152, resnet50v2/101v2/152v2, mobilenet, mobilenetv2, mobilenetv3small/large, efficientnet-b0 ... -b7, efficientnetv2-b0 ... -b3, -s, -m, -l ('Inspect archs' lists all).",
        Arity = ArgumentArity.ZeroOrOne,
    });

    private readonly Option<string?> _model = new("--model") { Description = "A model file instead of an architecture: .safetensors (weights-converter), Keras .h5/.keras, or TF.js model.json." };
    private readonly Option<double> _alpha = new("--alpha") { Description = "The width multiplier of MobileNet, MobileNetV2 and MobileNetV3.", DefaultValueFactory = _ => 1.0 };
    private readonly Option<int?> _resolution = Cli.OptionalPositiveInt("--resolution", "Input height and width.");
    private readonly Option<string?> _weights = new("--weights") { Description = "Weights: 'imagenet' (Keras's published file, downloaded once into $NATIVECNN_HOME/models), .safetensors, Keras / TF.js file, or a folder of .npy files ('layer__weight.npy'); seeded random when absent." };

    public ModelArguments(Command command)
    {
        command.Arguments.Add(_arch);
        foreach (var option in new Option[] { _model, _alpha, _resolution, _weights }) command.Options.Add(option);
    }

    /// <summary>Builds the model the parsed command names.</summary>
    /// <exception cref="UsageException">Both or neither of an architecture and --model, an unknown architecture, or arguments that do not apply.</exception>
    public Model Build(ParseResult result)
    {
        string? arch = result.GetValue(_arch), file = result.GetValue(_model), weights = result.GetValue(_weights);
        int? resolution = result.GetValue(_resolution);
        if (file is not null)
        {
            if (arch is not null) throw new UsageException($"give either an architecture ('{arch}') or --model, not both.");
            if (weights is not null) throw new UsageException("--weights applies to an architecture; a --model file holds its weights.");
            return ModelSources.LoadModel(Cli.ExistingFile(file, "model"), resolution);
        }
        if (arch is null) throw new UsageException("name an architecture (see 'archs'), or a model file with --model.");
        if (!ModelZoo.TryResolve(arch, out _, out _, out _))
            throw new UsageException($"unknown architecture '{arch}'; expected one of: {string.Join(", ", ModelZoo.Names)}");
        var options = new ApplicationOptions { Alpha = result.GetValue(_alpha), Resolution = resolution };
        if (Pretrained.IsImageNet(weights)) return Pretrained.Create(arch, options, Pretrained.ShowsProgress(result));
        Model model;
        try
        {
            model = ModelZoo.Create(arch, options);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        if (weights is null) return model;
        try
        {
            if (!Directory.Exists(weights)) Cli.ExistingFile(weights, "weights");
            ModelSources.LoadWeights(model, weights);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
