import { HttpApiMiddleware, HttpApiSecurity } from "@effect/platform"
import { Unauthorized } from "./errors.ts"

/**
 * Service-to-service authentication: `Authorization: Bearer <SERVICE_TOKEN>`. Every internal group but
 * `health` carries it; servers implement it (see @ecommerce/http-kit), clients add the header.
 */
export class Authorization extends HttpApiMiddleware.Tag<Authorization>()("@ecommerce/contracts/Authorization", {
  failure: Unauthorized,
  security: { bearer: HttpApiSecurity.bearer }
}) {}

/**
 * Client authentication at the public edge API: `Authorization: Bearer <one of EDGE_API_KEYS>`. A tag
 * of its own, so the edge can never accept the internal SERVICE_TOKEN by sharing an implementation.
 */
export class EdgeAuthorization extends HttpApiMiddleware.Tag<EdgeAuthorization>()(
  "@ecommerce/contracts/EdgeAuthorization",
  { failure: Unauthorized, security: { bearer: HttpApiSecurity.bearer } }
) {}
