/**
 * The shop: the main demo. Two Spring Boot services, {@code orders} and {@code inventory}, built
 * the way a user builds them (contextvars4j's Spring Boot, Logback and OpenTelemetry modules,
 * Spring Boot's own tracing, the java agent), each in a JVM of its own on a loopback port, and a
 * load generator that checks every value each request's work saw: in each response, in each
 * recorded observation and in each log line. {@link org.contextvars4j.examples.shop.ShopDemo} runs
 * it ({@code bin/demo}).
 */
@NullMarked
package org.contextvars4j.examples.shop;

import org.jspecify.annotations.NullMarked;
