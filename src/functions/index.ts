/**
 * The app's entry module ("main" in package.json points at its compiled form): it imports every
 * registration explicitly, one file per trigger or durable function (build-activities.js registers every build step).
 */
import { startAzureMonitor } from '../telemetry/azure-monitor.js';

// Build telemetry to Application Insights when the app has a connection string (no-op otherwise).
void startAzureMonitor();

import './http-start-build.js';
import './http-list-builds.js';
import './http-get-build.js';
import './http-cancel-build.js';
import './http-list-definitions.js';
import './http-openapi.js';
import './http-dashboard.js';
import './timer-monthly-rebuild.js';
import './timer-base-image-check.js';
import './eventgrid-base-image.js';
import './activity-notify.js';
import './orchestrator-build.js';
import './orchestrator-poll-run.js';
import './build-activities.js';
import './timer-janitor.js';
