using System.Globalization;
using NativeCnn.Samples.Classify;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
return ClassifyCommand.Run(args, Console.Out, Console.Error);
