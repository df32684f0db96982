/**
 * The Bicep app settings and the app's own settings list (src/config.ts SETTINGS) must not drift apart:
 * a setting the app reads but Azure never sets fails at start-up in production only. Reads the .bicep text,
 * so it needs no Bicep CLI.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../src/config.js';
import { DEFAULT_DEFINITION_NAME } from '../../src/image/definition.js';
import { repoRoot } from './bicep-cli.js';
import { literalValue, params, varObjectEntries } from './bicep-text.js';

/** Settings that only the local stand-ins use and that must stay unset in Azure. */
const LOCAL_ONLY: ReadonlySet<string> = new Set(['ARM_CA_CERT_PATH']);

const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');
const mainBicep = read('infra/main.bicep');
const functionAppBicep = read('infra/modules/function-app.bicep');
const appSettings = new Map(varObjectEntries(mainBicep, 'appSettings').map((e) => [e.key, e.value]));
const hostSettings = new Map(varObjectEntries(functionAppBicep, 'hostSettings').map((e) => [e.key, e.value]));
const mainParams = params(mainBicep);

describe('Bicep app settings vs src/config.ts SETTINGS', () => {
  it('sets every setting the app reads, except the local-only ones', () => {
    const missing = Object.keys(SETTINGS).filter((name) => !LOCAL_ONLY.has(name) && !appSettings.has(name));
    expect(missing).toEqual([]);
  });

  it('leaves the local-only settings unset', () => {
    const setLocalOnly = [...LOCAL_ONLY].filter((name) => appSettings.has(name) || hostSettings.has(name));
    expect(setLocalOnly).toEqual([]);
  });

  it('sets no app setting that the app does not read', () => {
    const unknown = [...appSettings.keys()].filter((name) => !(name in SETTINGS));
    expect(unknown).toEqual([]);
  });

  it('keeps host settings and app settings apart (no name in both)', () => {
    const both = [...appSettings.keys()].filter((name) => hostSettings.has(name));
    expect(both).toEqual([]);
  });

  it('uses parameter defaults equal to the app defaults for settings taken straight from a parameter', () => {
    const compared: string[] = [];
    const mismatches: string[] = [];
    for (const [setting, expression] of appSettings) {
      const appDefault = SETTINGS[setting as keyof typeof SETTINGS];
      const param = /^(?:string\()?(\w+)\)?$/.exec(expression)?.[1];
      const declared = param === undefined ? undefined : mainParams.get(param);
      const bicepDefault =
        declared?.defaultValue === undefined ? undefined : literalValue(declared.defaultValue);
      if (appDefault === undefined || bicepDefault === undefined) continue;
      compared.push(setting);
      if (bicepDefault !== appDefault) {
        mismatches.push(`${setting}: Bicep param ${param} = ${bicepDefault}, app default ${appDefault}`);
      }
    }
    expect(mismatches).toEqual([]);
    // Guards the parser: these defaults are literals in main.bicep and must have been compared.
    expect(compared).toEqual(
      expect.arrayContaining([
        'ARCHIVE_CONTAINER',
        'RECORDS_TABLE_NAME',
        'MONTHLY_REBUILD_SCHEDULE',
        'BASE_IMAGE_CHECK_SCHEDULE',
        'JANITOR_SCHEDULE',
        'POLL_MIN_INTERVAL_SECONDS',
        'POLL_MAX_INTERVAL_SECONDS',
        'EXPECTED_BUILD_MINUTES',
        'DEADLINE_MARGIN_MINUTES',
      ]),
    );
  });

  it('deploys the app default image definition when none is given', () => {
    const defaults = mainParams.get('imageDefinitions')?.defaultValue ?? '';
    const names = [...defaults.matchAll(/name:\s*'([^']+)'/g)].map((m) => m[1]);
    expect(names).toEqual([DEFAULT_DEFINITION_NAME]);
  });

  it('tells the app not to create the builder identity, which the infrastructure owns', () => {
    expect(appSettings.get('BUILDER_IDENTITY_CREATE')).toBe("'false'");
  });
});

describe('Function App host settings', () => {
  it('connects AzureWebJobsStorage with the user-assigned identity, never a connection string', () => {
    expect(hostSettings.get('AzureWebJobsStorage__credential')).toBe("'managedidentity'");
    expect(hostSettings.get('AzureWebJobsStorage__clientId')).toBe('identityClientId');
    expect(hostSettings.has('AzureWebJobsStorage')).toBe(false);
  });

  it("names the storage services by the account's own endpoints (no cloud-specific suffix, no account name alone)", () => {
    expect(hostSettings.get('AzureWebJobsStorage__blobServiceUri')).toBe('storageEndpoints.blob');
    expect(hostSettings.get('AzureWebJobsStorage__queueServiceUri')).toBe('storageEndpoints.queue');
    expect(hostSettings.get('AzureWebJobsStorage__tableServiceUri')).toBe('storageEndpoints.table');
    expect(hostSettings.has('AzureWebJobsStorage__accountName')).toBe(false);
    const storageBicep = read('infra/modules/storage.bicep');
    for (const service of ['blob', 'queue', 'table']) {
      expect(storageBicep).toContain(`account.properties.primaryEndpoints.${service}`);
    }
    const infraText = [mainBicep, functionAppBicep, storageBicep].join('\n');
    expect(infraText).not.toMatch(/core\.windows\.net|\.azure\.cn|usgovcloudapi/);
  });

  it('authenticates Application Insights ingestion with Microsoft Entra ID', () => {
    expect(hostSettings.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Bicep interpolation, not a JavaScript one
      "'ClientId=${identityClientId};Authorization=AAD'",
    );
  });

  it('sets none of the settings Flex Consumption removed; the runtime comes from functionAppConfig', () => {
    // https://learn.microsoft.com/azure/azure-functions/functions-app-settings#flex-consumption-plan-deprecations
    const removedOnFlex = [
      'FUNCTIONS_EXTENSION_VERSION',
      'FUNCTIONS_WORKER_RUNTIME',
      'FUNCTIONS_WORKER_RUNTIME_VERSION',
      'WEBSITE_NODE_DEFAULT_VERSION',
      'WEBSITE_RUN_FROM_PACKAGE',
      'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
      'WEBSITE_CONTENTSHARE',
      'SCM_DO_BUILD_DURING_DEPLOYMENT',
      'ENABLE_ORYX_BUILD',
    ];
    expect(removedOnFlex.filter((name) => hostSettings.has(name) || appSettings.has(name))).toEqual([]);
    expect(functionAppBicep).toMatch(/runtime:\s*\{\s*name:\s*'node'/);
  });

  it('keeps function keys unless Entra ID for callers is on and asks for none', () => {
    expect(hostSettings.get('HTTP_AUTH_LEVEL')).toBe('httpAuthLevel');
    expect(functionAppBicep).toContain("var httpAuthLevel = keyRequired ? 'function' : 'anonymous'");
    expect(functionAppBicep).toContain(
      'var keyRequired = callerAuthentication == null || (callerAuthentication.?requireFunctionKey ?? false)',
    );
  });

  it('sets every %SETTING% that host.json refers to', () => {
    const hostJson = read('host.json');
    const referenced = [...hostJson.matchAll(/%([A-Za-z0-9_]+)%/g)].map((m) => m[1]!);
    expect(referenced).toContain('DURABLE_TASK_HUB_NAME');
    const unset = referenced.filter((name) => !hostSettings.has(name) && !appSettings.has(name));
    expect(unset).toEqual([]);
  });

  it('leaves functionTimeout to host.json, which sets it on purpose within the Flex default of 30 minutes', () => {
    // One place decides the timeout: no AzureFunctionsJobHost__functionTimeout override from the infrastructure.
    const all = [...hostSettings.keys(), ...appSettings.keys()];
    expect(all.filter((name) => /functionTimeout/i.test(name))).toEqual([]);
    const timeout = (JSON.parse(read('host.json')) as { functionTimeout?: string }).functionTimeout;
    const m = /^(\d{2}):(\d{2}):(\d{2})$/.exec(timeout ?? '');
    expect(m, `host.json functionTimeout "${timeout}"`).not.toBeNull();
    const seconds = Number(m![1]) * 3600 + Number(m![2]) * 60 + Number(m![3]);
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(30 * 60);
  });

  it('carries no storage key, SAS token or key-based connection string', () => {
    const all = [...hostSettings, ...appSettings].map(([k, v]) => `${k}=${v}`).join('\n');
    expect(all).not.toMatch(/AccountKey|SharedAccessSignature|listKeys|sig=/i);
  });
});
