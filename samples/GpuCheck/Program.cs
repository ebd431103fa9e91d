using NativeCnn.Samples;
using NativeCnn.Samples.GpuCheck;

return Cli.Run(GpuCheckCommand.Create(), args, Console.Out, Console.Error);
