/**
 * contextvars4j for Logback: {@link org.contextvars4j.logback.ContextLogbackServiceProvider},
 * Logback's SLF4J provider with the MDC kept in the current {@link org.contextvars4j.Context}.
 */
module org.contextvars4j.logback {
  requires transitive org.contextvars4j.slf4j;
  requires transitive ch.qos.logback.classic;
  requires ch.qos.logback.core;
  requires static org.jspecify;

  // Chosen by name (-Dslf4j.provider), not provided as a service: beside Logback's own provider,
  // which of the two SLF4J takes from a service scan depends on the class path's order.
  exports org.contextvars4j.logback;
}
