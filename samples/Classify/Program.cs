using NativeCnn.Samples;
using NativeCnn.Samples.Classify;

return Cli.Run(ClassifyCommand.Create(), args, Console.Out, Console.Error);
