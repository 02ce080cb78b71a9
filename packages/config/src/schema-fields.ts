import type { z } from "zod";

type Def = {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
  element?: z.ZodType;
  valueType?: z.ZodType;
};

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/**
 * Every field path a schema accepts, like `targets[].aws.roleArn` or `slack.users.*`: what the
 * configuration reference in the README must document (a test compares the two).
 */
export function schemaFieldPaths(schema: z.ZodType, prefix = ""): string[] {
  const def = defOf(schema);
  switch (def.type) {
    case "object":
      return Object.entries(def.shape ?? {}).flatMap(([key, child]) => {
        const path = prefix ? `${prefix}.${key}` : key;
        return [path, ...schemaFieldPaths(child, path)];
      });
    case "optional":
    case "default":
    case "nullable":
    case "readonly":
    case "catch":
      return def.innerType ? schemaFieldPaths(def.innerType, prefix) : [];
    case "pipe":
      return def.in ? schemaFieldPaths(def.in, prefix) : [];
    case "union":
      return [...new Set((def.options ?? []).flatMap((option) => schemaFieldPaths(option, prefix)))];
    case "array":
      return def.element ? schemaFieldPaths(def.element, `${prefix}[]`) : [];
    case "record":
      return def.valueType ? schemaFieldPaths(def.valueType, `${prefix}.*`) : [];
    default:
      return [];
  }
}
