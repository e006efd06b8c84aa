/**
 * Micrometer context-propagation for contextvars4j: {@link
 * org.contextvars4j.micrometer.ContextThreadLocalAccessor}, one accessor for the whole context.
 */
@NullMarked
package org.contextvars4j.micrometer;

import org.jspecify.annotations.NullMarked;
