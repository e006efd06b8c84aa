/**
 * contextvars4j for Spring Boot 3.5 and 4.0: an auto-configuration, active with the dependency
 * alone, under which tasks handed to Spring's executors and schedulers run in a copy of the
 * submitter's {@link org.contextvars4j.Context}, and each incoming request, Servlet or WebFlux, in
 * a fresh one. See {@link org.contextvars4j.spring.boot.ContextVarsAutoConfiguration}.
 */
module org.contextvars4j.spring.boot {
  requires transitive org.contextvars4j;
  requires transitive spring.core;
  requires spring.beans;
  requires spring.context;
  requires spring.boot;
  requires spring.boot.autoconfigure;
  // Each is needed only by the part that serves it; the auto-configuration checks for them.
  requires static spring.web;
  requires static jakarta.servlet;
  requires static reactor.core;
  requires static org.jspecify;

  exports org.contextvars4j.spring.boot;

  // Spring creates the configuration's beans by reflection.
  opens org.contextvars4j.spring.boot to
      spring.core,
      spring.beans,
      spring.context;
}
