using System.Globalization;
using NativeCnn.WeightsConverter;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
return Converter.Run(args, Console.Out, Console.Error);
