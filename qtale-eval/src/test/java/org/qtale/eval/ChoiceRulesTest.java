package org.qtale.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** lm-evaluation-harness's picking rules on hand-made log-likelihoods. */
class ChoiceRulesTest {
    @Test
    void accPicksTheLargestSumAndAccNormTheLargestPerCharacter() {
        // " yes" (4 characters) at -2.0 beats " certainly" (10) at -3.0 by sum, but per character -0.5 < -0.3
        double[] logLikelihoods = {-2.0, -3.0};
        int[] characters = {4, 10};
        assertEquals(0, ChoiceRules.pick(logLikelihoods));
        assertEquals(1, ChoiceRules.pickNormalized(logLikelihoods, characters));
    }

    @Test
    void accNormDividesByTheAnswerWithoutItsJoiningSpace() {
        // the harness: " yes" scored, len("yes") = 3 divides; with the space counted the pick would flip
        Choice shortAnswer = new Choice("Q:", " no");
        Choice longAnswer = new Choice("Q:", " certainly");
        assertEquals(2, shortAnswer.answerLength());
        assertEquals(9, longAnswer.answerLength());
        double[] logLikelihoods = {-2.1, -9.0};
        assertEquals(1, ChoiceRules.pickNormalized(logLikelihoods, new int[] {2, 9}), "-1.05 < -1.0");
        assertEquals(0, ChoiceRules.pickNormalized(logLikelihoods, new int[] {3, 10}), "-0.7 > -0.9 with spaces");
    }

    @Test
    void tiesGoToTheFirstChoice() {
        assertEquals(1, ChoiceRules.pick(new double[] {-5, -1, -1, -3}));
        assertEquals(0, ChoiceRules.pickNormalized(new double[] {-2, -4}, new int[] {2, 4}));
    }

    @Test
    void anEmptyContinuationIsCertainAndWinsBothRules() {
        double[] logLikelihoods = {-0.1, 0.0, -0.2};
        int[] characters = {3, 0, 5};
        assertEquals(1, ChoiceRules.pick(logLikelihoods));
        assertEquals(1, ChoiceRules.pickNormalized(logLikelihoods, characters), "0/0 is NaN, which argmax picks first");
        assertEquals(0, ChoiceRules.pickNormalized(new double[] {0.0, 0.0}, new int[] {0, 0}));
    }

    @Test
    void theStandardErrorIsTheHarnesses() {
        // 3 right of 4: sample variance of (1,1,1,0) is 0.25, over 4 examples: sqrt(0.25/4) = 0.25
        assertEquals(0.25, ChoiceRules.standardError(0.75, 4), 1e-12);
        assertEquals(Math.sqrt(0.5 * 0.5 / 279), ChoiceRules.standardError(0.5, 280), 1e-12);
    }

    @Test
    void theGapOfTwoResultsIsPairedOverTheirExamples() {
        java.util.BitSet a = new java.util.BitSet();
        a.set(0, 3); // right on 0, 1, 2
        java.util.BitSet b = new java.util.BitSet();
        b.set(0);
        b.set(3); // right on 0 and 3
        TaskResult ra = new TaskResult("t", "s", 4, 0, 0.5, 0.75, 0.75, 1, 1, 1, 10, 1, a);
        TaskResult rb = new TaskResult("t", "s", 4, 0, 0.5, 0.5, 0.5, 1, 1, 1, 10, 1, b);
        double[] gap = ra.accuracyGap(rb);
        // differences 0, 1, 1, -1: mean 0.25, squared deviations 2.75, over n(n-1) = 12
        assertEquals(0.25, gap[0], 1e-12);
        assertEquals(Math.sqrt(2.75 / 12), gap[1], 1e-12);
        assertEquals(0.0, ra.accuracyGap(ra)[1], 1e-12, "a result against itself has no spread");
    }
}
