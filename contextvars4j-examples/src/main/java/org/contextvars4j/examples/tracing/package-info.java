/**
 * Two services on loopback, {@link org.contextvars4j.examples.tracing.Orders} calling {@link
 * org.contextvars4j.examples.tracing.Stock}, under concurrent load: the trace, OpenTelemetry's
 * baggage and a {@link org.contextvars4j.ContextVar} declared with {@link
 * org.contextvars4j.opentelemetry.BaggageVars} cross from one to the other through OpenTelemetry's
 * own W3C propagators, and follow each request through a wrapped pool, a {@code ContextFutures}
 * chain and a virtual thread. Run {@link org.contextvars4j.examples.tracing.TwoServices}.
 */
package org.contextvars4j.examples.tracing;
