using NativeCnn.Samples;
using NativeCnn.WeightsConverter;

return Cli.Run(Converter.Create(), args, Console.Out, Console.Error);
