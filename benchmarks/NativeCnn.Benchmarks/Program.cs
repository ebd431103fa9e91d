using BenchmarkDotNet.Running;

// Run with: dotnet run -c Release --project benchmarks/NativeCnn.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

/// <summary>Entry point type for BenchmarkSwitcher.</summary>
public partial class Program;
