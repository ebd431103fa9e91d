using System.Globalization;
using NativeCnn.Samples.GpuCheck;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
return GpuCheckCommand.Run(args, Console.Out, Console.Error);
