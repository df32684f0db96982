/**
 * The app's entry module ("main" in package.json points at its compiled form): it imports every
 * registration explicitly, one file per trigger or durable function.
 */
import './http-start-build.js';
import './http-list-builds.js';
import './http-get-build.js';
import './http-cancel-build.js';
import './http-list-definitions.js';
import './http-openapi.js';
import './timer-monthly-rebuild.js';
import './timer-base-image-check.js';
import './eventgrid-base-image.js';
import './activity-notify.js';
