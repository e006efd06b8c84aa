package org.contextvars4j.examples.tracing;

import org.contextvars4j.ContextVar;
import org.contextvars4j.opentelemetry.BaggageVars;

/** The request's variables, as a service declares them. */
final class RequestVars {
  private RequestVars() {}

  /** The tenant of the request: set by {@link Orders}, and crossing to {@link Stock} as baggage. */
  static final ContextVar<String> TENANT =
      BaggageVars.declare(ContextVar.named("tenant"), "tenant");

  /** The request's number, as the load generator sent it: local to {@link Orders}. */
  static final ContextVar<String> REQUEST = ContextVar.named("request");
}
