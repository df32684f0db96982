// Conformance harness: the app's orchestrators and activities run on the real Durable Functions extension
// (Microsoft.Azure.WebJobs.Extensions.DurableTask 3.19.0, DurableTask.AzureStorage) through proxies that forward
// each invocation to the Node bridge in conformance/run.ts, which runs the app's real handlers.
// Environment: AzureWebJobsStorage (Azurite), CONFORMANCE_HUB, CONFORMANCE_BRIDGE_URL.
// stdout: one line "CLIENT <durable client binding JSON>" once the host has started; then it runs until killed
// or until stdin closes.
using Microsoft.Azure.WebJobs;
using Microsoft.Azure.WebJobs.Extensions.DurableTask;
using Microsoft.Azure.WebJobs.Host.Config;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// The extension decides the out-of-process protocol (and opens its local HTTP RPC endpoint for the
// JavaScript durable client) from the worker runtime, as under the Functions host.
Environment.SetEnvironmentVariable("FUNCTIONS_WORKER_RUNTIME", "node");
string hub = Environment.GetEnvironmentVariable("CONFORMANCE_HUB") ?? "conformance";

var host = new HostBuilder()
    .ConfigureAppConfiguration(c => c.AddEnvironmentVariables())
    .ConfigureLogging(l => l
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
        .SetMinimumLevel(LogLevel.Warning))
    .ConfigureWebJobs(b => b.AddDurableTask(o =>
    {
        o.HubName = hub;
        // Same as the app's host.json.
        o.MaxConcurrentActivityFunctions = 10;
        o.MaxConcurrentOrchestratorFunctions = 10;
        o.OverridableExistingInstanceStates = OverridableStates.NonRunningStates;
        // Real time with short intervals: the provider's idle queue polling backs off to 30 s by default.
        o.StorageProvider["maxQueuePollingInterval"] = "00:00:01";
    }))
    .ConfigureServices(s =>
    {
        s.AddSingleton<ITypeLocator>(new HarnessTypeLocator());
        s.AddSingleton<IWebHookProvider>(new LoopbackWebHookProvider());
    })
    .Build();

await host.StartAsync();
var jobHost = host.Services.GetRequiredService<IJobHost>();
var clientJson = new string[1];
await jobHost.CallAsync(nameof(HarnessFunctions.GetDurableClient), new Dictionary<string, object> { ["json"] = clientJson });
Console.WriteLine("CLIENT " + clientJson[0]);
Console.Out.Flush();

var stop = new TaskCompletionSource();
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.TrySetResult();
_ = Task.Run(() => { Console.In.ReadToEnd(); stop.TrySetResult(); });
await stop.Task;
await host.StopAsync(TimeSpan.FromSeconds(5));

class HarnessTypeLocator : ITypeLocator
{
    public IReadOnlyList<Type> GetTypes() => new[] { typeof(HarnessFunctions), typeof(AppProxies) };
}

// Status URLs the extension renders need a base; nothing here serves them (the runner uses the RPC API).
class LoopbackWebHookProvider : IWebHookProvider
{
    public Uri GetUrl(IExtensionConfigProvider extension) => new("http://127.0.0.1:9/runtime/webhooks/durabletask");
}

public static class HarnessFunctions
{
    [FunctionName(nameof(GetDurableClient))]
    [NoAutomaticTrigger]
    public static void GetDurableClient([DurableClient] string client, string[] json) => json[0] = client;
}
