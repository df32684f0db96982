/** Routes of Microsoft.VirtualMachineImages/imageTemplates onto the ImageBuilderService. */

import { resourceNotFound } from '../errors.js';
import { listBody, requireResourceGroup, requireSubscription } from '../providers/common.js';
import { type Route, route } from '../router.js';
import type { ImageBuilderService } from './image-templates.js';
import { IMAGE_BUILDER_NAMESPACE as NS, TEMPLATE_TYPE } from './types.js';

const BASE = `/subscriptions/{}/resourceGroups/{}/providers/${NS}/imageTemplates`;

export function imageBuilderRoutes(service: ImageBuilderService): Route[] {
  return [
    route('GET', `/subscriptions/{}/providers/${NS}/imageTemplates`, (ctx, _req, [sub]) => {
      requireSubscription(ctx, sub!);
      return { status: 200, body: listBody(service.records().map((t) => service.view(t))) };
    }),
    route('GET', BASE, (ctx, _req, [sub, rg]) => {
      requireResourceGroup(ctx, sub!, rg!);
      const items = service.records().filter((t) => t.resourceGroup.toLowerCase() === rg!.toLowerCase());
      return { status: 200, body: listBody(items.map((t) => service.view(t))) };
    }),
    route('GET', `${BASE}/{}`, (_ctx, _req, [sub, rg, name]) => ({
      status: 200,
      body: service.view(service.getTemplate(sub!, rg!, name!)),
    })),
    route('PUT', `${BASE}/{}`, (_ctx, req, [sub, rg, name]) => service.put(req, sub!, rg!, name!)),
    route('PATCH', `${BASE}/{}`, (_ctx, req, [sub, rg, name]) => service.patch(req, sub!, rg!, name!)),
    route('DELETE', `${BASE}/{}`, (_ctx, req, [sub, rg, name]) => service.delete(req, sub!, rg!, name!)),
    route('POST', `${BASE}/{}/run`, (_ctx, req, [sub, rg, name]) => service.run(req, sub!, rg!, name!)),
    route('POST', `${BASE}/{}/cancel`, (_ctx, req, [sub, rg, name]) => service.cancel(req, sub!, rg!, name!)),
    route('GET', `${BASE}/{}/runOutputs`, (_ctx, _req, [sub, rg, name]) => {
      const t = service.getTemplate(sub!, rg!, name!);
      return { status: 200, body: listBody([...t.runOutputs.values()]) };
    }),
    route('GET', `${BASE}/{}/runOutputs/{}`, (_ctx, _req, [sub, rg, name, output]) => {
      const t = service.getTemplate(sub!, rg!, name!);
      const o = t.runOutputs.get(output!.toLowerCase());
      if (!o) throw resourceNotFound(`${TEMPLATE_TYPE}/runOutputs`, `${name}/${output}`, rg);
      return { status: 200, body: o };
    }),
  ];
}
