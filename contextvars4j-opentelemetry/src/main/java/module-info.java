/**
 * contextvars4j for OpenTelemetry: {@link org.contextvars4j.opentelemetry.ContextVarsStorageProvider}
 * keeps OpenTelemetry's current {@code Context} in a {@link org.contextvars4j.ContextVar}, so that
 * one {@link org.contextvars4j.Context} carries spans and baggage with every other variable; and
 * {@link org.contextvars4j.opentelemetry.BaggageVars} declares variables that cross services as W3C
 * baggage entries.
 */
module org.contextvars4j.opentelemetry {
  requires org.contextvars4j;
  // Transitive: the public class implements OpenTelemetry's provider interface.
  requires transitive io.opentelemetry.context;
  // Only for BaggageVars' propagator: the storage works without the API.
  requires static io.opentelemetry.api;
  requires java.logging;
  requires static org.jspecify;

  exports org.contextvars4j.opentelemetry;

  provides io.opentelemetry.context.ContextStorageProvider with
      org.contextvars4j.opentelemetry.ContextVarsStorageProvider;
}
