import { useCallback, useEffect, useState } from 'react'
import { createSiweMessage } from 'viem/siwe'
import { api, type Config, type Me } from './api.ts'
import { connectDevKey, connectInjected, hasInjected, type Wallet } from './wallet.ts'
import { WorkPage } from './Work.tsx'
import { MyWorkPage } from './MyWork.tsx'
import { DashboardPage } from './Dashboard.tsx'
import { LabelerChainPage } from './chain/LabelerChainPage.tsx'
import { LeaderboardPage } from './Leaderboard.tsx'

type Tab = 'work' | 'mine' | 'dashboard' | 'stake' | 'board'

export function App() {
  const [config, setConfig] = useState<Config | null>(null)
  const [wallet, setWallet] = useState<Wallet | null>(null)
  const [me, setMe] = useState<Me | null>(null)
  const [tab, setTab] = useState<Tab>('work')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)

  useEffect(() => {
    api<Config>('GET', '/api/config').then(setConfig, (e) => setError(String(e.message)))
  }, [])

  const signIn = useCallback(
    async (connect: () => Promise<Wallet> | Wallet) => {
      setError(null)
      setBusy(true)
      try {
        const w = await connect()
        const { nonce } = await api<{ nonce: string }>('GET', '/api/auth/nonce')
        const message = createSiweMessage({
          address: w.address,
          chainId: config?.chainId ?? 31337,
          domain: location.host,
          nonce,
          uri: location.origin + '/',
          version: '1',
          statement: 'Sign in to instruct3 labeling. Every label you submit is signed by this wallet.',
          issuedAt: new Date(),
          expirationTime: new Date(Date.now() + 12 * 3600_000),
        })
        const signature = await w.signMessage({ message })
        const r = await api<Me>('POST', '/api/auth/verify', { message, signature })
        setWallet(w)
        setMe({ address: r.address, roles: r.roles })
      } catch (e) {
        setError((e as Error).message)
      } finally {
        setBusy(false)
      }
    },
    [config],
  )

  const signOut = async () => {
    await api('POST', '/api/auth/logout', {}).catch(() => {})
    setWallet(null)
    setMe(null)
  }

  return (
    <div className="app">
      <header className="top">
        <div className="brand">
          <span className="logo">◆</span> instruct3 <span className="muted">· labeling</span>
        </div>
        {me && wallet ? (
          <div className="who">
            <span className="chip mono" title={me.address} data-testid="address">
              {me.address.slice(0, 6)}…{me.address.slice(-4)}
            </span>
            <span className="chip soft">{wallet.kind === 'dev' ? 'dev key' : 'wallet'}</span>
            {me.roles.map((r) => (
              <span key={r} className="chip role">
                {r}
              </span>
            ))}
            <button className="ghost" onClick={signOut}>
              Sign out
            </button>
          </div>
        ) : null}
      </header>
      {error ? (
        <div className="error" role="alert">
          {error}
        </div>
      ) : null}
      {!me || !wallet ? (
        <section className="hero card">
          <h1>Teach models what a good answer is.</h1>
          <p className="muted">
            Write demonstrations, rank model outputs, flag problems. Each label is signed by your wallet (EIP-712), so anyone can check who labeled what, and
            quality is measured against gold tasks and the other labelers.
          </p>
          <div className="row">
            <button className="primary" disabled={busy || !hasInjected()} onClick={() => signIn(connectInjected)} data-testid="connect-injected">
              Connect wallet
            </button>
            <button disabled={busy} onClick={() => signIn(connectDevKey)} data-testid="connect-dev">
              Use a local dev key
            </button>
          </div>
          <p className="small muted">Sign-In with Ethereum (EIP-4361): one signature, no transaction, no gas. The dev key lives in this browser only and is meant for the demo.</p>
        </section>
      ) : (
        <>
          <nav className="tabs">
            <button className={tab === 'work' ? 'tab on' : 'tab'} onClick={() => setTab('work')} data-testid="tab-work">
              Label
            </button>
            <button className={tab === 'mine' ? 'tab on' : 'tab'} onClick={() => setTab('mine')} data-testid="tab-mine">
              My work
            </button>
            {/* on-chain: campaign terms, stake and join, positions, badge (web/src/chain) */}
            <button className={tab === 'stake' ? 'tab on' : 'tab'} onClick={() => setTab('stake')} data-testid="tab-stake">
              Stake &amp; earn
            </button>
            <button className={tab === 'board' ? 'tab on' : 'tab'} onClick={() => setTab('board')} data-testid="tab-board">
              Leaderboard
            </button>
            {me.roles.includes('requester') ? (
              <button className={tab === 'dashboard' ? 'tab on' : 'tab'} onClick={() => setTab('dashboard')} data-testid="tab-dashboard">
                Dashboard
              </button>
            ) : null}
          </nav>
          <main>
            {tab === 'work' && config ? <WorkPage wallet={wallet} me={me} config={config} /> : null}
            {tab === 'mine' ? <MyWorkPage /> : null}
            {tab === 'dashboard' ? <DashboardPage /> : null}
            {tab === 'stake' ? <LabelerChainPage /> : null}
            {tab === 'board' ? <LeaderboardPage /> : null}
          </main>
        </>
      )}
      <footer className="small muted">Labels are EIP-712 signatures over keccak256(canonical JSON); exports carry a Merkle root for on-chain settlement.</footer>
    </div>
  )
}
