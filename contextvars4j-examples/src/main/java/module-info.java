/** Runnable walkthroughs of contextvars4j, and two services that trace across each other. */
module org.contextvars4j.examples {
  requires org.contextvars4j;
  requires org.contextvars4j.opentelemetry;
  requires io.opentelemetry.api;
  requires io.opentelemetry.sdk.common;
  requires io.opentelemetry.sdk.trace;
  requires java.net.http;
  requires jdk.httpserver;
  requires static org.jspecify;
}
