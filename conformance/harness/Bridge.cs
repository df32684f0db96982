using System.Text;
using Microsoft.Azure.WebJobs.Extensions.DurableTask;
using Newtonsoft.Json.Linq;

/// <summary>Forwards invocations to the Node bridge that runs the app's real handlers.</summary>
public static class Bridge
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromMinutes(10) };
    private static readonly string BaseUrl =
        Environment.GetEnvironmentVariable("CONFORMANCE_BRIDGE_URL") ?? throw new InvalidOperationException("CONFORMANCE_BRIDGE_URL is not set");

    /// <summary>The orchestrator's JSON reply, or the worker's failure in the shape the Functions host reports it.</summary>
    public static async Task<object> Orchestrate(string name, string context)
    {
        JObject reply = await Post($"orchestrator/{Uri.EscapeDataString(name)}", context);
        if (reply["error"] is JObject error) throw WorkerFailure(error);
        return reply["result"]!.ToString(Newtonsoft.Json.Formatting.None);
    }

    public static async Task<JToken?> Activity(string name, IDurableActivityContext context)
    {
        JToken? input = context.GetInput<JToken>();
        JObject reply = await Post($"activity/{Uri.EscapeDataString(name)}", input?.ToString(Newtonsoft.Json.Formatting.None) ?? "null");
        if (reply["error"] is JObject error) throw WorkerFailure(error);
        return reply["result"];
    }

    // The Functions host surfaces a language worker's exception as an RpcException whose message is
    // "Result: Failure\nException: <message>\nStack: <stack>"; the extension parses that shape
    // (OutOfProcExceptionHelpers), so the proxy throws the same.
    private static Exception WorkerFailure(JObject error) =>
        new($"Result: Failure\nException: {error["message"]}\nStack: {error["stack"]}");

    private static async Task<JObject> Post(string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using HttpResponseMessage res = await Http.PostAsync(BaseUrl.TrimEnd('/') + "/" + path, content);
        string text = await res.Content.ReadAsStringAsync();
        if (!res.IsSuccessStatusCode) throw new InvalidOperationException($"bridge {path}: {(int)res.StatusCode} {text}");
        return JObject.Parse(text);
    }
}
