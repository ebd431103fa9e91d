using System.CommandLine;
using NativeCnn.Samples;
using NativeCnn.Samples.Inspect;

return Cli.Run(InspectCommands.Create(), args, Console.Out, Console.Error);
