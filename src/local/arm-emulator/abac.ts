/**
 * Azure ABAC conditions (version 2.0) as role assignments carry them, for the subset used to delegate
 * role assignment rights: `ActionMatches{'…'}`, `!`/`NOT`, `AND`/`&&`, `OR`/`||`, parentheses, and
 * `@Request[…]` / `@Resource[…]` attribute comparisons with (ForAnyOfAnyValues:)GuidEquals,
 * StringEquals(IgnoreCase) and their Not forms. An unparseable condition grants nothing.
 */

export interface ConditionContext {
  readonly action: string;
  /** Attributes of the request, e.g. `Microsoft.Authorization/roleAssignments:RoleDefinitionId`. */
  readonly request: Readonly<Record<string, string | undefined>>;
  /** Attributes of the existing resource (deletes). */
  readonly resource: Readonly<Record<string, string | undefined>>;
}

type Node =
  | { kind: 'and' | 'or'; left: Node; right: Node }
  | { kind: 'not'; inner: Node }
  | { kind: 'action'; pattern: string }
  | { kind: 'suboperation' }
  | { kind: 'attr'; source: 'request' | 'resource'; name: string; op: string; values: string[] };

export class ConditionSyntaxError extends Error {}

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  parse(): Node {
    const n = this.or();
    this.ws();
    if (this.i < this.s.length) this.fail('unexpected text');
    return n;
  }

  private fail(what: string): never {
    throw new ConditionSyntaxError(`${what} at position ${this.i}: ${this.s.slice(this.i, this.i + 30)}`);
  }

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  private eat(re: RegExp): string | undefined {
    this.ws();
    const m = re.exec(this.s.slice(this.i));
    if (!m) return undefined;
    this.i += m[0].length;
    return m[0];
  }

  private or(): Node {
    let left = this.and();
    while (this.eat(/^(OR\b|\|\|)/i)) left = { kind: 'or', left, right: this.and() };
    return left;
  }

  private and(): Node {
    let left = this.unary();
    while (this.eat(/^(AND\b|&&)/i)) left = { kind: 'and', left, right: this.unary() };
    return left;
  }

  private unary(): Node {
    if (this.eat(/^(!|NOT\b)/i)) return { kind: 'not', inner: this.unary() };
    if (this.eat(/^\(/)) {
      const n = this.or();
      if (!this.eat(/^\)/)) this.fail('expected )');
      return n;
    }
    if (this.eat(/^ActionMatches\s*\{/i)) {
      const pattern = this.quoted();
      if (!this.eat(/^\}/)) this.fail('expected }');
      return { kind: 'action', pattern };
    }
    if (this.eat(/^SubOperationMatches\s*\{/i)) {
      this.quoted();
      if (!this.eat(/^\}/)) this.fail('expected }');
      return { kind: 'suboperation' };
    }
    const attr = this.eat(/^@(Request|Resource)\[[^\]]+\]/i);
    if (attr) {
      const m = /^@(\w+)\[([^\]]+)\]$/.exec(attr)!;
      const op = this.eat(
        /^(ForAnyOfAnyValues:|ForAllOfAnyValues:|ForAnyOfAllValues:|ForAllOfAllValues:)?[A-Za-z]+/,
      );
      if (!op) this.fail('expected an operator');
      return {
        kind: 'attr',
        source: m[1]!.toLowerCase() as 'request' | 'resource',
        name: m[2]!.trim(),
        op: op.toLowerCase(),
        values: this.values(),
      };
    }
    this.fail('expected a condition');
  }

  private quoted(): string {
    const q = this.eat(/^'[^']*'/);
    if (!q) this.fail('expected a quoted string');
    return q.slice(1, -1);
  }

  private values(): string[] {
    if (this.eat(/^\{/)) {
      const out: string[] = [];
      do out.push(this.value());
      while (this.eat(/^,/));
      if (!this.eat(/^\}/)) this.fail('expected }');
      return out;
    }
    return [this.value()];
  }

  private value(): string {
    this.ws();
    if (this.s[this.i] === "'") return this.quoted();
    const v = this.eat(/^[^\s,}()]+/);
    if (!v) this.fail('expected a value');
    return v;
  }
}

export function parseCondition(condition: string): Node {
  return new Parser(condition).parse();
}

function compare(op: string, actual: string | undefined, values: readonly string[]): boolean {
  const base = op.replace(/^for\w+:/, '');
  const negated = base.includes('not');
  const ignoreCase = base.startsWith('guid') || base.endsWith('ignorecase');
  const norm = (v: string) => (ignoreCase ? v.toLowerCase() : v);
  const guidish = (v: string) => (base.startsWith('guid') ? v.slice(v.lastIndexOf('/') + 1) : v);
  if (actual === undefined) return negated;
  const hit = values.some((v) => norm(guidish(v)) === norm(guidish(actual)));
  return negated ? !hit : hit;
}

function actionMatch(pattern: string, action: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return re.test(action);
}

function evaluate(n: Node, c: ConditionContext): boolean {
  switch (n.kind) {
    case 'and':
      return evaluate(n.left, c) && evaluate(n.right, c);
    case 'or':
      return evaluate(n.left, c) || evaluate(n.right, c);
    case 'not':
      return !evaluate(n.inner, c);
    case 'action':
      return actionMatch(n.pattern, c.action);
    case 'suboperation':
      return false;
    case 'attr': {
      const attrs = n.source === 'request' ? c.request : c.resource;
      const key = Object.keys(attrs).find((k) => k.toLowerCase() === n.name.toLowerCase());
      return compare(n.op, key === undefined ? undefined : attrs[key], n.values);
    }
  }
}

/** True when the condition holds; a condition that does not parse grants nothing. */
export function conditionHolds(condition: string, context: ConditionContext): boolean {
  try {
    return evaluate(parseCondition(condition), context);
  } catch (e) {
    if (e instanceof ConditionSyntaxError) return false;
    throw e;
  }
}
