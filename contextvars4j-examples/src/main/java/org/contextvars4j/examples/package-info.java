/**
 * Runnable walkthroughs of contextvars4j.
 *
 * <p>{@link org.contextvars4j.examples.Walkthrough} replays the scenarios of the blog post the
 * project grew from; each scenario is one package-private class, {@code Scenario1SameValue} to
 * {@code Scenario5Fix}, whose methods mirror the post's Python functions.
 */
package org.contextvars4j.examples;
