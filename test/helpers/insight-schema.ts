import { readFile } from 'node:fs/promises';
import { Ajv, type ValidateFunction } from 'ajv';

/** A validator for schemas/insight-event.schema.json, the event format users' consumers rely on. */
export async function insightSchemaValidator(): Promise<ValidateFunction> {
  const schema = JSON.parse(
    await readFile(new URL('../../schemas/insight-event.schema.json', import.meta.url), 'utf8'),
  ) as object;
  return new Ajv({ allErrors: true, strict: true }).compile(schema);
}
