/** The words of the feedback links, shared by the mail (HTML and plain text) and the feedback pages. */

/** "How was this issue?" answers, rating 1 to 3. */
export const RATING_WORDS = ['Not useful', 'OK', 'Great'] as const;

export const STORY_VOTE_WORDS = { more: 'More like this', less: 'Less like this' } as const;

export const RATING_QUESTION = 'How was this issue?';
