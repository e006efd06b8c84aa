/**
 * Runnable walkthroughs of contextvars4j.
 *
 * <p>{@link org.contextvars4j.examples.Walkthrough} replays the scenarios of the blog post the
 * project grew from; each scenario is one package-private class, {@code Scenario1SameValue} to
 * {@code Scenario5Fix}, whose methods mirror the post's Python functions. Scenarios 6 to 9 ({@code
 * Scenario6Executors}, {@code Scenario7Futures}, {@code Scenario8VirtualThreads}, {@code
 * Scenario9SameContextOrCopies}) show Java's own traps, each next to its fix with {@code
 * org.contextvars4j.concurrent}.
 */
package org.contextvars4j.examples;
