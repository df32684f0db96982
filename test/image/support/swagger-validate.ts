/**
 * A small validator for request bodies against Swagger 2.0 definitions of the Azure REST API specs:
 * $ref (also across files), allOf, discriminator / x-ms-discriminator-value dispatch, type, enum, required,
 * pattern, minimum/maximum, items, additionalProperties maps, readOnly (must not be sent), and unknown property
 * names (Azure silently ignores them, which hides typos — here they are errors).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

type Schema = Record<string, unknown>;

interface Loaded {
  readonly file: string;
  readonly doc: { definitions?: Record<string, Schema> };
}

export class SwaggerValidator {
  private readonly docs = new Map<string, Loaded>();

  constructor(private readonly entryFile: string) {}

  private load(file: string): Loaded {
    const abs = resolve(file);
    let d = this.docs.get(abs);
    if (!d) {
      d = { file: abs, doc: JSON.parse(readFileSync(abs, 'utf8')) as Loaded['doc'] };
      this.docs.set(abs, d);
    }
    return d;
  }

  /** Resolves `file#/definitions/Name` relative to `from`. */
  private resolveRef(ref: string, from: string): { schema: Schema; file: string; name: string } {
    const [filePart, pointer] = ref.split('#');
    const file = filePart ? resolve(dirname(from), filePart) : from;
    const name = (pointer ?? '').replace(/^\/definitions\//, '');
    const schema = this.load(file).doc.definitions?.[name];
    if (!schema) throw new Error(`unresolvable $ref ${ref} from ${from}`);
    return { schema, file, name };
  }

  /** Subtypes of a discriminated base definition, keyed by discriminator value. */
  private subtypes(baseName: string, baseFile: string): Map<string, { schema: Schema; file: string }> {
    const out = new Map<string, { schema: Schema; file: string }>();
    const doc = this.load(baseFile).doc;
    for (const [name, def] of Object.entries(doc.definitions ?? {})) {
      const parents = ((def.allOf as Schema[] | undefined) ?? []).map((p) => String(p.$ref ?? ''));
      if (parents.some((r) => r.endsWith(`/definitions/${baseName}`))) {
        out.set(String(def['x-ms-discriminator-value'] ?? name), { schema: def, file: baseFile });
      }
    }
    return out;
  }

  /** Every property declared by a schema and its allOf ancestors. */
  private declared(schema: Schema, file: string): Map<string, { schema: Schema; file: string }> {
    const props = new Map<string, { schema: Schema; file: string }>();
    for (const parent of (schema.allOf as Schema[] | undefined) ?? []) {
      const p = parent.$ref ? this.resolveRef(String(parent.$ref), file) : { schema: parent, file };
      for (const [k, v] of this.declared(p.schema, p.file)) props.set(k, v);
    }
    for (const [k, v] of Object.entries((schema.properties as Record<string, Schema> | undefined) ?? {})) {
      props.set(k, { schema: v, file });
    }
    return props;
  }

  private requiredOf(schema: Schema, file: string): string[] {
    const req = [...((schema.required as string[] | undefined) ?? [])];
    for (const parent of (schema.allOf as Schema[] | undefined) ?? []) {
      const p = parent.$ref ? this.resolveRef(String(parent.$ref), file) : { schema: parent, file };
      req.push(...this.requiredOf(p.schema, p.file));
    }
    return req;
  }

  validate(definition: string, value: unknown): string[] {
    const errors: string[] = [];
    const { schema, file } = this.resolveRef(`#/definitions/${definition}`, resolve(this.entryFile));
    this.check(schema, file, value, definition, errors, definition);
    return errors;
  }

  private check(
    schema: Schema,
    file: string,
    value: unknown,
    path: string,
    errors: string[],
    name?: string,
  ): void {
    if (schema.$ref) {
      const r = this.resolveRef(String(schema.$ref), file);
      this.check(r.schema, r.file, value, path, errors, r.name);
      return;
    }
    if (schema.discriminator && name && value && typeof value === 'object') {
      const key = String(schema.discriminator);
      const tag = (value as Record<string, unknown>)[key];
      const subs = this.subtypes(name, file);
      const sub = subs.get(String(tag));
      if (!sub) {
        errors.push(`${path}.${key}: "${String(tag)}" is not one of ${[...subs.keys()].join(', ')}`);
        return;
      }
      this.checkObject(sub.schema, sub.file, value as Record<string, unknown>, path, errors);
      return;
    }
    const type = schema.type as string | undefined;
    if (schema.enum && !(schema.enum as unknown[]).includes(value)) {
      errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
    }
    if (type === 'string' || (type === undefined && typeof value === 'string' && !schema.properties)) {
      if (typeof value !== 'string') return void errors.push(`${path}: expected a string`);
      if (schema.pattern && !new RegExp(String(schema.pattern)).test(value)) {
        errors.push(`${path}: "${value}" does not match ${String(schema.pattern)}`);
      }
      return;
    }
    if (type === 'integer' || type === 'number') {
      if (typeof value !== 'number' || (type === 'integer' && !Number.isInteger(value))) {
        return void errors.push(`${path}: expected ${type}`);
      }
      if (typeof schema.minimum === 'number' && value < schema.minimum)
        errors.push(`${path}: below ${schema.minimum}`);
      if (typeof schema.maximum === 'number' && value > schema.maximum)
        errors.push(`${path}: above ${schema.maximum}`);
      return;
    }
    if (type === 'boolean') {
      if (typeof value !== 'boolean') errors.push(`${path}: expected boolean`);
      return;
    }
    if (type === 'array') {
      if (!Array.isArray(value)) return void errors.push(`${path}: expected an array`);
      value.forEach((v, i) => {
        this.check(schema.items as Schema, file, v, `${path}[${i}]`, errors);
      });
      return;
    }
    if (type === 'object' || schema.properties || schema.allOf || schema.additionalProperties) {
      if (!value || typeof value !== 'object' || Array.isArray(value))
        return void errors.push(`${path}: expected an object`);
      this.checkObject(schema, file, value as Record<string, unknown>, path, errors);
    }
  }

  private checkObject(
    schema: Schema,
    file: string,
    value: Record<string, unknown>,
    path: string,
    errors: string[],
  ): void {
    const declared = this.declared(schema, file);
    for (const req of this.requiredOf(schema, file)) {
      if (value[req] === undefined) errors.push(`${path}.${req}: required`);
    }
    const extra = schema.additionalProperties as Schema | boolean | undefined;
    for (const [k, v] of Object.entries(value)) {
      const prop = declared.get(k);
      if (prop) {
        if (prop.schema.readOnly === true) errors.push(`${path}.${k}: read-only, must not be sent`);
        this.check(prop.schema, prop.file, v, `${path}.${k}`, errors);
      } else if (extra && typeof extra === 'object') {
        this.check(extra, file, v, `${path}.${k}`, errors);
      } else if (extra !== true) {
        errors.push(`${path}.${k}: not a property of this type`);
      }
    }
  }
}
