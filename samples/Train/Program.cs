using NativeCnn.Samples;
using NativeCnn.Samples.Train;

return Cli.Run(TrainCommand.Create(), args, Console.Out, Console.Error);
