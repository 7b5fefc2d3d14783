// Tells the user when the wallet is on another chain than the deployment's, and switches it (adding
// the chain to the wallet first when the wallet does not know it).
import { useCallback, useEffect, useState } from 'react'
import type { ChainInfo } from './chainApi.ts'
import { chainOf, ensureChain, hasCode, injectedProvider, walletChainId } from './eth.ts'
import { createWalletClient, custom } from 'viem'
import { describeError } from './tx.ts'

export function NetworkBanner({ info, onSwitched }: { info: ChainInfo; onSwitched?: () => void }) {
  const [current, setCurrent] = useState<number | null>(null)
  const [busy, setBusy] = useState(false)
  const [err, setErr] = useState<string | null>(null)
  const check = useCallback(() => {
    walletChainId().then(setCurrent, () => setCurrent(null))
  }, [])
  useEffect(() => {
    check()
    // Wallets announce chain changes (EIP-1193 "chainChanged"); re-check then and when the tab regains focus.
    const eth = injectedProvider() as any
    eth?.on?.('chainChanged', check)
    window.addEventListener('focus', check)
    return () => {
      eth?.removeListener?.('chainChanged', check)
      window.removeEventListener('focus', check)
    }
  }, [check])
  if (current === null || current === info.chainId) return null
  const doSwitch = async () => {
    if (busy) return
    setBusy(true)
    setErr(null)
    try {
      const chain = chainOf(info)
      const wallet = createWalletClient({ chain, transport: custom(injectedProvider()!) })
      await ensureChain({ wallet: wallet as any, chain })
      check()
      onSwitched?.()
    } catch (e) {
      setErr(hasCode(e, 4001) ? 'you declined the switch in your wallet' : describeError(e).error)
    } finally {
      setBusy(false)
    }
  }
  return (
    <div className="error netbanner" role="alert" data-testid="wrong-chain">
      <span>
        Your wallet is on chain {current}; this app's contracts are on chain {info.chainId} ({chainOf(info).name}).
      </span>
      <button className="primary" onClick={doSwitch} disabled={busy} data-testid="switch-chain">
        {busy ? 'Switching…' : 'Switch network'}
      </button>
      {err ? <div className="small">{err}</div> : null}
    </div>
  )
}
