using System.Text;
using System.Text.Json;
using NativeCnn.Layers;

namespace NativeCnn.Models;

/// <summary>A Keras-style model summary: one row per layer, parameter totals and multiply-accumulates at batch 1.</summary>
public sealed class ModelSummary
{
    internal ModelSummary(Model model)
    {
        ModelName = model.Name;
        Rows = model.Nodes.Select(node =>
        {
            var inputShapes = node.Inputs.Select(n => n.OutputShape).ToArray();
            long macs = node.Layer is InputLayer ? 0 : node.Layer.CountMultiplyAccumulates(inputShapes, node.OutputShape);
            // An open input reads as Keras prints it, (None, None, None, 3); the rows below show the size it is built at.
            string shape = node.Layer is InputLayer input ? input.ToKerasString() : node.OutputShape.ToKerasString();
            return new ModelSummaryRow(node.Name, node.Layer.ClassName, shape,
                                       node.Layer.ParameterCount, node.Inputs.Select(n => n.Name).ToArray(), macs);
        }).ToArray();
        TotalParameters = model.ParameterCount;
        TrainableParameters = model.TrainableParameterCount;
        MultiplyAccumulates = Rows.Sum(r => r.MultiplyAccumulates);
    }

    /// <summary>The model name.</summary>
    public string ModelName { get; }

    /// <summary>One row per layer, in execution order.</summary>
    public IReadOnlyList<ModelSummaryRow> Rows { get; }

    /// <summary>Keras's "Total params".</summary>
    public long TotalParameters { get; }

    /// <summary>Keras's "Trainable params".</summary>
    public long TrainableParameters { get; }

    /// <summary>Keras's "Non-trainable params".</summary>
    public long NonTrainableParameters => TotalParameters - TrainableParameters;

    /// <summary>Multiply-accumulates of one image (convolutions, depthwise convolutions and dense layers).</summary>
    public long MultiplyAccumulates { get; }

    /// <summary>The table as Keras prints it, with a MACs line added.</summary>
    public override string ToString()
    {
        int nameWidth = Math.Max(28, Rows.Max(r => r.Name.Length + r.ClassName.Length + 4));
        int shapeWidth = Math.Max(20, Rows.Max(r => r.OutputShape.Length + 2));
        var sb = new StringBuilder();
        sb.AppendLine($"Model: \"{ModelName}\"");
        string header = $"{"Layer (type)".PadRight(nameWidth)}{"Output Shape".PadRight(shapeWidth)}{"Param #",12}  Connected to";
        sb.AppendLine(new string('_', header.Length + 20));
        sb.AppendLine(header);
        sb.AppendLine(new string('=', header.Length + 20));
        foreach (var row in Rows)
        {
            sb.Append($"{row.Name} ({row.ClassName})".PadRight(nameWidth));
            sb.Append(row.OutputShape.PadRight(shapeWidth));
            sb.Append($"{row.Parameters,12:N0}  ");
            sb.AppendLine(string.Join(", ", row.ConnectedTo));
        }
        sb.AppendLine(new string('=', header.Length + 20));
        sb.AppendLine($"Total params: {TotalParameters:N0}");
        sb.AppendLine($"Trainable params: {TrainableParameters:N0}");
        sb.AppendLine($"Non-trainable params: {NonTrainableParameters:N0}");
        sb.AppendLine($"Multiply-accumulates (batch 1): {MultiplyAccumulates:N0} ({MultiplyAccumulates / 1e9:F3} G)");
        return sb.ToString();
    }

    /// <summary>
    /// The summary as one JSON object: <c>model</c>, <c>total_params</c>, <c>trainable_params</c>,
    /// <c>non_trainable_params</c>, <c>macs</c> and <c>layers</c> (name, type, output_shape, params, connected_to, macs).
    /// </summary>
    public string ToJson(bool indented = false)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented }))
        {
            json.WriteStartObject();
            json.WriteString("model", ModelName);
            json.WriteNumber("total_params", TotalParameters);
            json.WriteNumber("trainable_params", TrainableParameters);
            json.WriteNumber("non_trainable_params", NonTrainableParameters);
            json.WriteNumber("macs", MultiplyAccumulates);
            json.WriteStartArray("layers");
            foreach (var row in Rows)
            {
                json.WriteStartObject();
                json.WriteString("name", row.Name);
                json.WriteString("type", row.ClassName);
                json.WriteString("output_shape", row.OutputShape);
                json.WriteNumber("params", row.Parameters);
                json.WriteStartArray("connected_to");
                foreach (var input in row.ConnectedTo) json.WriteStringValue(input);
                json.WriteEndArray();
                json.WriteNumber("macs", row.MultiplyAccumulates);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}

/// <summary>One layer's line in a <see cref="ModelSummary"/>.</summary>
/// <param name="Name">Layer name.</param>
/// <param name="ClassName">Keras class name.</param>
/// <param name="OutputShape">Output shape as Keras prints it, e.g. <c>(None, 112, 112, 32)</c>.</param>
/// <param name="Parameters">Weight values.</param>
/// <param name="ConnectedTo">Names of the input layers.</param>
/// <param name="MultiplyAccumulates">Multiply-accumulates for one image.</param>
public sealed record ModelSummaryRow(string Name, string ClassName, string OutputShape, long Parameters,
                                     IReadOnlyList<string> ConnectedTo, long MultiplyAccumulates);
