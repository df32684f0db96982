/**
 * Turns on the Azure Monitor OpenTelemetry distro when the app has an Application Insights connection
 * string (APPLICATIONINSIGHTS_CONNECTION_STRING, set by the infrastructure). Ingestion uses the app's
 * managed identity (Entra ID auth; the Application Insights resource can then disable local auth), never
 * an instrumentation key alone. The build metrics and spans of src/telemetry/build-telemetry.ts go
 * through the OpenTelemetry API, so they reach Application Insights once this has run; without a
 * connection string (tests, local tools) nothing is started and the API stays a no-op.
 */
import { createCredential } from '../azure/clients.js';

let started = false;

export interface AzureMonitorSettings {
  readonly APPLICATIONINSIGHTS_CONNECTION_STRING?: string | undefined;
  readonly AZURE_CLIENT_ID?: string | undefined;
}

/** Starts the distro once; returns whether it is running. Never throws (telemetry must not stop the app). */
export async function startAzureMonitor(env: AzureMonitorSettings = process.env): Promise<boolean> {
  if (started) return true;
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING;
  if (!connectionString) return false;
  try {
    const { useAzureMonitor } = await import('@azure/monitor-opentelemetry');
    useAzureMonitor({
      azureMonitorExporterOptions: {
        connectionString,
        credential: createCredential(env.AZURE_CLIENT_ID),
      },
      // Builds are few and each one matters: no sampling (tracesPerSecond 0 = use samplingRatio).
      samplingRatio: 1,
      tracesPerSecond: 0,
    });
    started = true;
  } catch (e) {
    console.warn(`telemetry: Azure Monitor could not start: ${(e as Error).message}`);
  }
  return started;
}
