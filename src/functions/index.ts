/**
 * The app's entry module ("main" in package.json points at its compiled form): it imports every
 * registration explicitly, one file per trigger or durable function.
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
import './activity-preflight.js';
import './activity-builder-identity.js';
import './activity-persistent-roles.js';
import './activity-source-version.js';
import './activity-deploy-template.js';
import './activity-grant-image-contributor.js';
import './activity-revoke-image-contributor.js';
import './activity-polling-policy.js';
import './activity-start-run.js';
import './activity-run-status.js';
import './activity-cancel-run.js';
import './activity-archive-logs.js';
import './activity-collect-supply-chain.js';
import './activity-promote-image.js';
import './activity-cleanup-partial-images.js';
import './activity-record-build.js';
import './timer-janitor.js';
import './activity-check-up-to-date.js';
