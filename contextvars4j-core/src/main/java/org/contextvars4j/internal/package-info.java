/**
 * Internal hooks between the packages of this module. Not exported; not for public use.
 */
@NullMarked
package org.contextvars4j.internal;

import org.jspecify.annotations.NullMarked;
