namespace NativeCnn.Backends.Gpu;

/// <summary>
/// A GPU API call failed. The message names the call, the numeric code and its symbolic name (e.g.
/// <c>clBuildProgram failed: -11 (CL_BUILD_PROGRAM_FAILURE)</c>) followed by any compiler log.
/// </summary>
/// <param name="api">The function that failed, e.g. <c>clEnqueueNDRangeKernel</c>.</param>
/// <param name="code">Its numeric result code.</param>
/// <param name="symbolicName">The code's name from the API's header, e.g. <c>CL_OUT_OF_RESOURCES</c>.</param>
/// <param name="detail">Extra text (a build log, the layer name), or null.</param>
public sealed class GpuException(string api, int code, string symbolicName, string? detail = null)
    : Exception($"{api} failed: {code} ({symbolicName}){(string.IsNullOrEmpty(detail) ? "" : ": " + detail)}")
{
    /// <summary>The function that failed.</summary>
    public string Api { get; } = api;

    /// <summary>The numeric result code.</summary>
    public int Code { get; } = code;

    /// <summary>The result code's name, e.g. <c>CUDA_ERROR_OUT_OF_MEMORY</c>.</summary>
    public string SymbolicName { get; } = symbolicName;

    /// <summary>The compiler log or other detail attached to the failure, if any.</summary>
    public string? Detail { get; } = detail;
}
