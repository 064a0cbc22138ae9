import { HttpApiMiddleware, HttpApiSecurity } from "@effect/platform"
import { Unauthorized } from "./errors.ts"

/**
 * Service-to-service authentication: `Authorization: Bearer <SERVICE_TOKEN>`. Every group but
 * `health` carries it; servers implement it (see @ecommerce/http-kit), clients add the header.
 */
export class Authorization extends HttpApiMiddleware.Tag<Authorization>()("@ecommerce/contracts/Authorization", {
  failure: Unauthorized,
  security: { bearer: HttpApiSecurity.bearer }
}) {}
