package org.contextvars4j.kotlin

import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.flowOn
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.yield
import org.assertj.core.api.Assertions.assertThat
import org.assertj.core.api.Assertions.assertThatThrownBy
import org.contextvars4j.Context
import org.contextvars4j.ContextVar
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.RepeatedTest
import org.junit.jupiter.api.Test

/**
 * The orders in which kotlinx.coroutines calls the element that a plain enter and close would not
 * survive: a step that goes on after another thread's step of the same coroutine (a `withContext`
 * whose block finished elsewhere before the caller suspended), a step of the same coroutine opened
 * inside another on one thread (an undispatched `withContext`), and kotlinx 1.11's out-of-order
 * restore of an undispatched `withContext` in `flowOn` (kotlinx #4754/#4755: the outer coroutine
 * restores while the inner one is still installed, and the inner restore comes later). In each,
 * no set is lost, nothing throws into kotlinx, and the threads hold nothing afterwards.
 */
class KotlinxOrderingTest {
    private val threads = TwoThreads()
    private val one = threads.one
    private val threadOne = threads.threadOne
    private val threadTwo = threads.threadTwo

    @AfterEach
    fun threadsHoldNothingAfterwards() {
        threads.assertEmptyAndStop()
    }

    /**
     * The block runs on thread two while thread one is still in the caller's step; when it
     * finishes first, `withContext` returns on thread one without suspending, in the same step:
     * that step must see what the other thread's step set. Raced many times: either order occurs.
     */
    @Test
    fun aStepGoesOnAfterAnotherThreadsStepOfTheSameCoroutinePublished() {
        var lost = 0
        repeat(5_000) { i ->
            runBlocking(ContextElement.copyCurrent() + threadOne) {
                withContext(threadTwo) { VAR.set("set $i") }
                if (VAR.get() != "set $i") lost++
            }
        }
        assertThat(lost).`as`("sets lost in 5,000 races").isZero()
    }

    @Test
    fun undispatchedWithContextNestsAStepOfTheSameCoroutineOnOneThread() = run {
        VAR.set("outer")
        withContext(CoroutineName("nested")) {
            assertThat(VAR.get()).isEqualTo("outer")
            VAR.set("nested")
            withContext(CoroutineName("nested twice")) { VAR.set("nested twice") }
            assertThat(VAR.get()).isEqualTo("nested twice")
        }
        assertThat(VAR.get()).isEqualTo("nested twice")
    }

    /**
     * kotlinx 1.11's `flowOn` with a context of the same dispatcher runs the upstream in an
     * undispatched `withContext` of the same coroutine; when the upstream suspends, kotlinx
     * restores the outer coroutine first and the inner one later. The flow is one task with its
     * collector (no new coroutine), so the collector sees the upstream's sets, in order.
     */
    @RepeatedTest(20)
    fun flowOnOfTheSameDispatcherWithSuspensionsRestoresOutOfOrderHarmlessly() = run {
        VAR.set("collector")
        val seen = mutableListOf<String>()
        upstreamThatSets().flowOn(CoroutineName("same dispatcher")).collect { value ->
            seen.add(value + " | " + VAR.get())
            yield()
        }
        assertThat(seen).containsExactly(
            "collector | collector",
            "upstream 0 | upstream 0",
            "upstream 1 | upstream 1",
        )
        assertThat(VAR.get()).isEqualTo("upstream 2")
        withContext(threadTwo) { assertThat(VAR.get()).isEqualTo("upstream 2") }
    }

    /** A `flowOn` to another dispatcher runs the upstream in a child: its sets stay its own. */
    @RepeatedTest(20)
    fun flowOnOfAnotherDispatcherRunsTheUpstreamInACopy() = run {
        VAR.set("collector")
        val seen = mutableListOf<String>()
        upstreamThatSets().flowOn(threadTwo).collect { value ->
            seen.add(value + " | " + VAR.get())
            yield()
        }
        assertThat(seen).containsExactly(
            "collector | collector",
            "upstream 0 | collector",
            "upstream 1 | collector",
        )
        assertThat(VAR.get()).isEqualTo("collector")
    }

    /**
     * A scope entered in a coroutine and not closed before it suspends: the step closes it when it
     * is left, so the thread is not left in it; nothing reaches kotlinx, and the scope's own close
     * afterwards says it is closed already.
     */
    @Test
    fun aScopeLeftOpenAcrossASuspensionIsClosedWithTheStep() = run {
        val scope = Context().enter()
        VAR.set("in the forgotten scope")
        // yield() on an executor's dispatcher always suspends; delay(1) does not when its timer fires
        // before the coroutine has suspended (it then goes on without leaving the step).
        yield()
        assertThat(VAR.get()).isEqualTo("unset")
        assertThatThrownBy { scope.close() }
            .isInstanceOf(IllegalStateException::class.java)
            .hasMessageContaining("already closed")
    }

    /** Many coroutines on two threads, each restored late by the other thread now and then. */
    @Test
    fun coroutinesHoppingBetweenTwoThreadsKeepTheirOwnValues() = run {
        val jobs = (0 until 200).map { i ->
            launch(if (i % 2 == 0) threadOne else threadTwo) {
                VAR.set("coroutine $i")
                for (hop in 0 until 10) {
                    withContext(if (hop % 2 == 0) threadTwo else threadOne) {
                        assertThat(VAR.get()).isEqualTo("coroutine $i")
                        VAR.set("coroutine $i")
                    }
                    yield()
                    assertThat(VAR.get()).isEqualTo("coroutine $i")
                }
            }
        }
        jobs.forEach { it.join() }
        assertThat(VAR.get()).isEqualTo("unset")
    }

    /** Emits what it sees, then sets a value of its own and suspends, three times. */
    private fun upstreamThatSets() = flow {
        for (i in 0 until 3) {
            emit(VAR.get())
            VAR.set("upstream $i")
            yield()
        }
    }

    private fun run(body: suspend kotlinx.coroutines.CoroutineScope.() -> Unit) {
        runBlocking(ContextElement.copyCurrent() + threadOne) { withTimeout(30_000) { body() } }
        // The thread that ran runBlocking's caller is not in the coroutine's context either.
        assertThat(VAR.get()).isEqualTo("unset")
    }

    companion object {
        private val VAR: ContextVar<String> = ContextVar.named("var", "unset")
    }
}
