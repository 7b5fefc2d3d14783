/**
 * Campaign categories and the short gold quiz that qualifies a labeler for one (browser-safe data;
 * the answers are only used server-side by qualify.ts, the web app never receives them).
 *
 * `general` needs no qualification. For the others a labeler answers QUIZ_SIZE multiple-choice
 * questions with known answers and passes with at least PASS_SCORE correct (guessing passes with
 * probability ~5%); a failed attempt can be retried after a cooldown (qualify.ts).
 */
export const CATEGORIES = ['smart_contract_security', 'governance', 'defi', 'transactions', 'general'] as const
export type Category = (typeof CATEGORIES)[number]

export const CATEGORY_NAMES: Record<Category, string> = {
  smart_contract_security: 'Smart-contract security',
  governance: 'Governance',
  defi: 'DeFi',
  transactions: 'Transactions',
  general: 'General',
}

export const isCategory = (v: unknown): v is Category => typeof v === 'string' && (CATEGORIES as readonly string[]).includes(v)

export type QuizQuestion = { id: string; question: string; options: string[]; answer: number }

export const PASS_SCORE = 3

/** Four questions per category; the answer is the index into options. */
export const QUIZZES: Record<Exclude<Category, 'general'>, QuizQuestion[]> = {
  smart_contract_security: [
    { id: 'scs1', question: 'A contract sends ETH with call() before setting the sender’s balance to zero. What is the risk?', options: ['Integer overflow', 'Reentrancy', 'Front-running', 'None'], answer: 1 },
    { id: 'scs2', question: 'Which pattern prevents reentrancy?', options: ['Checks-effects-interactions', 'Using tx.origin for auth', 'Making the function payable', 'Emitting an event first'], answer: 0 },
    { id: 'scs3', question: 'Why is `require(tx.origin == owner)` unsafe for authorisation?', options: ['It costs too much gas', 'A contract the owner calls can act as the owner', 'tx.origin can be zero', 'It is deprecated syntax only'], answer: 1 },
    { id: 'scs4', question: 'A lending protocol prices collateral from one DEX pool’s spot price. What attack does that invite?', options: ['Signature replay', 'Oracle manipulation with a flash loan', 'Denial of service by gas griefing', 'Storage collision'], answer: 1 },
  ],
  governance: [
    { id: 'gov1', question: 'What does a timelock on a DAO’s executor give token holders?', options: ['Higher yield', 'Time to react or exit before a passed proposal executes', 'Anonymous voting', 'Lower gas costs'], answer: 1 },
    { id: 'gov2', question: 'What is a quorum in on-chain governance?', options: ['The minimum participation for a vote to be valid', 'The proposal’s author', 'The majority threshold for a treasury transfer only', 'The number of signers of a multisig'], answer: 0 },
    { id: 'gov3', question: 'Why do many governors snapshot voting power at the proposal’s start block?', options: ['To save storage', 'So tokens borrowed or bought after the proposal cannot vote', 'To let delegates change votes', 'Because ERC-20 requires it'], answer: 1 },
    { id: 'gov4', question: 'Delegating your votes to another address...', options: ['Transfers your tokens to them', 'Lets them vote with your voting power while you keep the tokens', 'Burns your tokens', 'Is only possible once'], answer: 1 },
  ],
  defi: [
    { id: 'defi1', question: 'In a constant-product AMM (x·y=k), a large buy of token X does what to X’s price in the pool?', options: ['Lowers it', 'Raises it', 'Leaves it unchanged', 'Sets it to zero'], answer: 1 },
    { id: 'defi2', question: 'Impermanent loss happens to liquidity providers when...', options: ['Gas prices rise', 'The pool’s token prices move apart from when they deposited', 'They withdraw too early by block count', 'The pool has fees'], answer: 1 },
    { id: 'defi3', question: 'A flash loan must be...', options: ['Repaid within the same transaction', 'Collateralised at 150%', 'Approved by governance', 'Repaid within 24 hours'], answer: 0 },
    { id: 'defi4', question: 'A position is liquidated in an over-collateralised lending protocol when...', options: ['Its health factor falls below 1', 'It is older than a year', 'The borrower votes against a proposal', 'Interest is paid'], answer: 0 },
  ],
  transactions: [
    { id: 'tx1', question: 'An ERC-20 `approve(spender, max)` transaction lets the spender...', options: ['Move up to that many of your tokens at any later time', 'Read your balance', 'Nothing until you sign again', 'Move your ETH'], answer: 0 },
    { id: 'tx2', question: 'Under EIP-1559, what happens to the base fee of a transaction?', options: ['It goes to the validator', 'It is burned', 'It is refunded', 'It goes to the DAO treasury'], answer: 1 },
    { id: 'tx3', question: 'A transaction’s status is 0 (reverted). Which is true?', options: ['No gas was paid', 'Its state changes were undone but gas was still paid', 'It can be replayed for free', 'Its events were emitted'], answer: 1 },
    { id: 'tx4', question: 'Two pending transactions from the same address have the same nonce. What happens?', options: ['Both are mined', 'At most one is mined', 'They are merged', 'The address is banned'], answer: 1 },
  ],
}

/** The quiz as the labeler sees it: no answers. */
export function publicQuiz(category: Exclude<Category, 'general'>): Array<Omit<QuizQuestion, 'answer'>> {
  return QUIZZES[category].map(({ answer: _, ...q }) => q)
}
