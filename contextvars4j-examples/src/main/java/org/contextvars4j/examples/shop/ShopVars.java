package org.contextvars4j.examples.shop;

import org.contextvars4j.ContextVar;
import org.contextvars4j.opentelemetry.BaggageVars;

/** The request's variables, as both services declare them. */
final class ShopVars {
  private ShopVars() {}

  /** What a variable holds where it is not bound, in observations and log lines. */
  static final String UNBOUND = "-";

  /** The request's id: set by orders, crossing to inventory as the baggage entry {@code request_id}. */
  static final ContextVar<String> REQUEST_ID =
      BaggageVars.declare(ContextVar.named("request_id", UNBOUND), "request_id");

  /** The tenant: from orders' {@code X-Tenant} header, crossing to inventory as baggage. */
  static final ContextVar<String> TENANT =
      BaggageVars.declare(ContextVar.named("tenant", UNBOUND), "tenant");

  /** The user: from orders' {@code X-User} header; it stays in orders. */
  static final ContextVar<String> USER = ContextVar.named("user", UNBOUND);

  /**
   * Set by a task on the full pool and never reset: the task runs in a copy of the caller's
   * context, so the caller must not see it, also when the task runs on the caller's thread.
   */
  static final ContextVar<String> STAGE = ContextVar.named("stage", UNBOUND);

  /** Initialises this class, hence declares the baggage variables; call before serving. */
  static void declared() {}

  /** The MDC keys the handlers put; {@code traceId} is Spring Boot's own. */
  static final String MDC_REQUEST_ID = "request_id";

  static final String MDC_TENANT = "tenant";
  static final String MDC_TRACE_ID = "traceId";
}
