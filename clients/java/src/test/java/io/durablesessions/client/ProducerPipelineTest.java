package io.durablesessions.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.durablesessions.client.ProducerPipeline.Settled;
import org.junit.jupiter.api.Test;

/** The producer seqs of appends in flight, as the service's in-order storing requires them. */
class ProducerPipelineTest {

    @Test
    void seqsAreNumberedInOrderAndAtMostMaxInFlightAreOpen() {
        ProducerPipeline<String> p = new ProducerPipeline<>(2);
        assertThat(p.isIdle()).isTrue();
        assertThat(p.open("a")).isZero();
        assertThat(p.hasRoom()).isTrue();
        assertThat(p.open("b")).isEqualTo(1);
        assertThat(p.hasRoom()).isFalse();
        p.settle(0, Settled.STORED);
        assertThat(p.hasRoom()).isTrue();
        assertThat(p.open("c")).isEqualTo(2);
        assertThatThrownBy(() -> new ProducerPipeline<String>(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void storedThroughMovesOnlyOverAStoredPrefixWhateverOrderTheAnswersComeIn() {
        ProducerPipeline<String> p = new ProducerPipeline<>(4);
        for (String b : new String[] {"a", "b", "c"}) p.open(b);
        p.settle(2, Settled.STORED);
        p.settle(1, Settled.STORED);
        assertThat(p.storedThrough()).isEqualTo(-1);
        assertThat(p.earlierInFlight(2)).isTrue();
        p.settle(0, Settled.STORED);
        assertThat(p.storedThrough()).isEqualTo(2);
        assertThat(p.earlierInFlight(2)).isFalse();
        assertThat(p.isIdle()).isTrue();
    }

    @Test
    void afterAnUnstoredSeqNothingNewIsNumberedUntilAllAreAnsweredThenTheRefusedGoAgainInOrderUnderItsSeq() {
        ProducerPipeline<String> p = new ProducerPipeline<>(4);
        for (String b : new String[] {"a", "b", "c", "d"}) p.open(b);
        p.settle(0, Settled.STORED);
        p.settle(1, Settled.NOT_STORED); // e.g. its run was fenced: the callers were told
        assertThat(p.hasRoom()).isFalse();
        assertThat(p.brokenBelow(1)).isFalse();
        assertThat(p.brokenBelow(2)).isTrue();
        p.settle(3, Settled.RENUMBER);
        assertThat(p.hasRenumbered()).isFalse(); // seq 2 is still on its way
        p.settle(2, Settled.RENUMBER);
        assertThat(p.hasRoom()).isTrue();
        assertThat(p.storedThrough()).isZero();
        assertThat(p.takeRenumbered()).isEqualTo("c");
        assertThat(p.takeRenumbered()).isEqualTo("d");
        assertThat(p.takeRenumbered()).isNull();
        assertThat(p.open("c")).isEqualTo(1); // the unstored seq is free again
        assertThat(p.open("d")).isEqualTo(2);
    }

    @Test
    void aProducerTheServiceForgotStartsAgainAtSeqZeroWithWhatWasNotStored() {
        ProducerPipeline<String> p = new ProducerPipeline<>(3);
        for (String b : new String[] {"a", "b", "c"}) p.open(b);
        p.settle(0, Settled.STORED);
        p.settle(1, Settled.FORGOTTEN); // the session was erased meanwhile
        p.settle(2, Settled.RENUMBER);
        assertThat(p.storedThrough()).isEqualTo(-1);
        assertThat(p.takeRenumbered()).isEqualTo("b");
        assertThat(p.takeRenumbered()).isEqualTo("c");
        assertThat(p.open("b")).isZero();
    }

    @Test
    void theLowestUnstoredSeqDecidesWhereNumberingResumes() {
        ProducerPipeline<String> p = new ProducerPipeline<>(4);
        for (String b : new String[] {"a", "b", "c", "d"}) p.open(b);
        p.settle(3, Settled.NOT_STORED);
        p.settle(1, Settled.NOT_STORED);
        p.settle(0, Settled.STORED);
        p.settle(2, Settled.RENUMBER);
        assertThat(p.takeRenumbered()).isEqualTo("c");
        assertThat(p.takeRenumbered()).isNull();
        assertThat(p.open("c")).isEqualTo(1);
    }
}
