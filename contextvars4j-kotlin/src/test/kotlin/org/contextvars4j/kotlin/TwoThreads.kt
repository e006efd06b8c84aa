package org.contextvars4j.kotlin

import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.ExecutorCoroutineDispatcher
import kotlinx.coroutines.asCoroutineDispatcher
import org.assertj.core.api.Assertions.assertThat
import org.contextvars4j.Context

/**
 * Two single-thread dispatchers, "one" and "two": a change between them is a change of thread
 * for certain, and each thread can be asked afterwards what it holds.
 */
class TwoThreads {
    /** The thread "one". */
    val one: ExecutorService = Executors.newSingleThreadExecutor { Thread(it, "one") }

    /** The thread "two". */
    val two: ExecutorService = Executors.newSingleThreadExecutor { Thread(it, "two") }

    /** A dispatcher on [one]. */
    val threadOne: ExecutorCoroutineDispatcher = one.asCoroutineDispatcher()

    /** A dispatcher on [two]. */
    val threadTwo: ExecutorCoroutineDispatcher = two.asCoroutineDispatcher()

    /** Runs [check] for each thread's executor, then stops both. */
    fun checkEachAndStop(check: (ExecutorService) -> Unit) {
        for (pool in listOf(one, two)) {
            check(pool)
            pool.shutdown()
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue()
        }
    }

    /** Asserts that neither thread is left holding a value in its own context, and stops them. */
    fun assertEmptyAndStop() = checkEachAndStop { pool ->
        assertThat(pool.submit<Int> { Context.copyCurrent().size() }.get(10, TimeUnit.SECONDS))
            .`as`("what a dispatcher thread holds once its coroutines are done")
            .isZero()
    }
}
