import fastJsonStringify from "fast-json-stringify";
import { type ZodType, z } from "zod";

type ResponseSchema = ZodType | { properties: ZodType };

const zodSchemaOf = (schema: ResponseSchema): ZodType => (schema instanceof z.ZodType ? schema : schema.properties);

/**
 * Response bodies through compiled serializers, as Fastify does for JSON Schema: each route's zod
 * response schema is turned into JSON Schema once (the same conversion the OpenAPI document
 * uses) and compiled by fast-json-stringify into a function that writes exactly the schema's
 * properties. The type provider's own serializer instead validates every body with zod and then
 * calls JSON.stringify, which costs more than the rest of a typical request. Bodies are built
 * by the adapters' `toWire…` functions, typed by the same schemas, so nothing is left to check.
 */
export const compiledSerializerCompiler = ({ schema }: { schema: ResponseSchema }) =>
  fastJsonStringify(
    z.toJSONSchema(zodSchemaOf(schema), { io: "output", target: "draft-7", unrepresentable: "any" }) as object,
  );
